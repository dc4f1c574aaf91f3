"""The simulator's kernels compiled ahead, in a process of their own.

numba compiles the step kernel (``kernels.step.run_chunk``) once per machine and version, about 90 s on a
core here, then loads it from its cache in well under a second. A session that starts ``KernelWarmup``
while it records or trains finds the kernel cached when it first simulates. The process runs at the
lowest priority, so it takes only a core nothing else wants (a recording and a decoder keep theirs).
"""

import os
import subprocess
import sys


class KernelWarmup:
    """A background process compiling (or loading) the kernels; ``wait()`` for it before simulating."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neuroshell.neuron.warmup"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the terminal's Ctrl-C is for the shell, not for this process
        )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_s: float | None = None) -> str:
        """Wait until it ends; returns "" when it compiled, else the first line of what went wrong (the
        simulation then compiles for itself)."""
        try:
            _, errors = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return "still compiling"
        if self.process.returncode == 0:
            return ""
        lines = errors.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self.process.returncode}"

    def stop(self) -> None:
        """End it (a session closing); the cache keeps only what was complete."""
        if self.running:
            self.process.terminate()
            self.process.communicate()


def compile_kernels() -> None:
    """Run the smallest network of the CUBA example for one step: the kernel's types do not depend on the
    network's size, model or plasticity, so this compiles (or loads) what every simulation runs."""
    from neuroshell.neuron.examples import EXAMPLES
    from neuroshell.neuron.simulator import simulate

    simulate(EXAMPLES["cuba"](100), 1e-4, threads=1)


if __name__ == "__main__":
    os.nice(19)
    compile_kernels()
