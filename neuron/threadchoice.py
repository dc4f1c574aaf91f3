"""How many threads the next chunk of a run uses, when the run decides (``simulate(threads="auto")``).

The parts of a step wait for each other at its end, so a step is as slow as its slowest part: on a machine
where another program holds a core, the part on that core waits for the OS, and two threads ran CUBA
2.2-2.6x slower than one (bench/simulate.py). So the run times its chunks: it starts on one thread, soon runs
a short probe on the other count, keeps the faster, and probes again after 4, 8, 16 ... chunks (at most 64)
while the probes lose, at once when its own chunks slow down by half. A probe is a fifth of a chunk; one
of more threads is not even tried while other programs keep the cores it would need busy (``MachineLoad``:
such a probe once cost 13x a step). Which count runs a step does not change its spikes
(``kernels.threaded``).
"""

import os
import time
from dataclasses import dataclass, field

AUTO = "auto"
PROBE_FRACTION = 0.2  # a probe runs this share of a chunk's steps
FIRST_RECHECK_CHUNKS = 4
MAX_RECHECK_CHUNKS = 64
BETTER = 0.95  # a probed count takes over when its steps are at least 5% faster
SLOWED = 1.5  # a chunk this much slower per step than the one before: probe at once
LOAD_WINDOW_S = 0.2  # the machine's load is measured over at least this long (the kernel counts 10 ms ticks)
FIRST_LOAD_WINDOW_S = 0.05  # ... but a first, rougher figure is wanted before the first probe
SPARE_CORE = 0.5  # a core other programs use less than half of counts as free


@dataclass
class ThreadChoice:
    """The choice between one thread and ``most`` (the cores the run may use). Call ``next_chunk(steps)``
    for the count and steps of the next chunk, then ``observe(count, steps, seconds)`` with its wall time.
    ``fixed``: the user chose ``current``; nothing is probed. ``cores``: the cores the run may use (default
    ``most``); ``others_busy``: how many of them other programs keep busy, when known (``MachineLoad``)."""

    most: int
    current: int = 1
    fixed: bool = False
    cores: int = 0
    others_busy: float | None = None
    per_step_s: dict[int, float] = field(default_factory=dict)  # the latest figure of each count
    steps_run: dict[int, int] = field(default_factory=dict)
    seconds_run: dict[int, float] = field(default_factory=dict)
    recheck_in: int = 1  # chunks before the next probe
    backoff: int = FIRST_RECHECK_CHUNKS
    probing: bool = False
    held_back: bool = False  # a probe of more threads was not run: other programs held the cores

    @property
    def other(self) -> int:
        return self.most if self.current == 1 else 1

    def next_chunk(self, steps: int) -> tuple[int, int]:
        """(threads, steps) for the next chunk of at most ``steps`` steps: a probe of the other count is shorter."""
        self.probing = not self.fixed and self.most > 1 and self.recheck_in <= 0
        if self.probing and self.other > self.current and not self._room_for(self.other):
            self.probing, self.held_back = False, True
            self.backoff = min(2 * self.backoff, MAX_RECHECK_CHUNKS)
            self.recheck_in = self.backoff  # as if the probe had lost
        if self.probing:
            return self.other, max(1, round(steps * PROBE_FRACTION))
        return self.current, steps

    def _room_for(self, threads: int) -> bool:
        free = (self.cores or self.most) - (self.others_busy or 0.0)
        return free >= threads - SPARE_CORE

    def observe(self, threads: int, steps: int, seconds: float, others_busy: float | None = None) -> None:
        """The chunk just run: ``steps`` steps on ``threads`` threads in ``seconds`` of wall time; and the
        cores other programs kept busy lately, when known."""
        if others_busy is not None:
            self.others_busy = others_busy
        if steps <= 0:
            return
        self.steps_run[threads] = self.steps_run.get(threads, 0) + steps
        self.seconds_run[threads] = self.seconds_run.get(threads, 0.0) + seconds
        per_step = seconds / steps
        if self.probing:
            self.probing = False
            if per_step < BETTER * self.per_step_s.get(self.current, float("inf")):
                self.current, self.backoff = threads, FIRST_RECHECK_CHUNKS
            else:
                self.backoff = min(2 * self.backoff, MAX_RECHECK_CHUNKS)
            self.recheck_in = self.backoff
        else:
            before = self.per_step_s.get(threads)
            self.recheck_in -= 1
            if before is not None and per_step > SLOWED * before:
                self.recheck_in, self.backoff = 0, FIRST_RECHECK_CHUNKS  # the machine changed: look again
        self.per_step_s[threads] = per_step

    def mostly(self) -> int:
        """The count that ran the most steps."""
        return max(self.steps_run, key=self.steps_run.get) if self.steps_run else self.current

    def describe(self) -> str:
        """What the run used and why, e.g. '2 threads (auto: 1.45x one thread's speed)'."""
        total = sum(self.steps_run.values())
        mostly = self.mostly()
        if self.fixed or self.most == 1 or total == 0:
            return f"{mostly} thread{'s' if mostly > 1 else ''}"
        share = self.steps_run[mostly] / total
        said = f"{mostly} thread{'s' if mostly > 1 else ''}"
        if share < 0.9:
            said += f" for {share:.0%} of the steps"
        if self.most not in self.steps_run and self.held_back:
            busy = f"{self.others_busy or 0:.1f} of {self.cores or self.most} cores"
            return f"{said} (auto: other programs kept {busy} busy; {self.most} threads not tried)"
        if self.most not in self.steps_run:
            return f"{said} (auto: the run ended before {self.most} threads were tried)"
        one, many = (self.seconds_run[n] / self.steps_run[n] if n in self.steps_run else None for n in (1, self.most))
        speed = f"{one / many:.2f}x one thread's speed" if one and many else "not compared"
        return f"{said} (auto: {f'{self.most} threads ran at {speed}' if mostly == 1 else speed})"


class MachineLoad:
    """How many of this process's cores other programs kept busy lately, from Linux's ``/proc/stat`` (the
    cores' busy time less this process's CPU time); ``None`` where there is no ``/proc/stat``."""

    def __init__(self) -> None:
        self.cpus = {f"cpu{n}" for n in os.sched_getaffinity(0)}
        self.tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
        self.last = self._sample()
        self.value: float | None = None

    def others_busy(self) -> float | None:
        """Cores busy with other programs since the last figure (measured over at least LOAD_WINDOW_S)."""
        now = self._sample()
        if now is None or self.last is None:
            return None
        wall = now[0] - self.last[0]
        if wall >= (LOAD_WINDOW_S if self.value is not None else FIRST_LOAD_WINDOW_S):
            busy, own = now[1] - self.last[1], now[2] - self.last[2]
            self.value, self.last = max(0.0, (busy - own) / wall), now
        return self.value

    def _sample(self) -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                lines = [line.split() for line in stat if line.startswith("cpu")]
        except OSError:
            return None
        # user nice system idle iowait irq softirq steal: all but idle and iowait is busy
        ticks = sum(sum(map(int, f[1:4])) + sum(map(int, f[6:9])) for f in lines if f[0] in self.cpus)
        return time.perf_counter(), ticks * self.tick_s, time.process_time()
