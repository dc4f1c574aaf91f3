"""Kernel verbs: net compile (the engine is ``neuron.warmup``)."""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from neuroshell.sessions.output import Message
from neuroshell.sessions.registry import VerbSet

verbs = VerbSet("neuron")


@verbs.verb(
    "net compile",
    "Compile the simulator's kernels now, in a background process at the lowest priority.",
    replayable=False,
    details="numba compiles the step kernel once per machine and version (about 90 s on a core), then loads it "
    "from its cache. Started while recording or training, the first simulate finds it ready (simulate waits "
    "for a compilation still running). The demo starts one at its beginning.",
)
def net_compile(session, args):
    from neuroshell.neuron.warmup import KernelWarmup

    if session.kernel_warmup is not None and session.kernel_warmup.running:
        return Message("the kernels are compiling already")
    session.kernel_warmup = KernelWarmup()
    return Message("compiling the simulator's kernels in the background (simulate waits for them if need be)")


def wait_for_kernels(session) -> None:
    """Before simulating: wait for a `net compile` still running, and say if it failed."""
    warmup, session.kernel_warmup = session.kernel_warmup, None
    if warmup is None:
        return
    waiting = session.ui.progress("waiting for the kernels to compile", total=None) if warmup.running else nullcontext()
    with waiting:
        failed = warmup.wait()
    if failed:
        session.ui.show(Message(f"compiling ahead failed ({failed}): simulate compiles the kernels itself", "warning"))


@contextmanager
def cores_left(session) -> Iterator[None]:
    """One thread for torch and BLAS while a `net compile` holds a core: two threads contending with it made
    the demo's evaluate 3x slower (11 s -> 34 s) and its training 1.7x."""
    warmup = session.kernel_warmup
    if warmup is None or not warmup.running:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)
