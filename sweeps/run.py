"""Running a sweep end to end: the grid's points into the file, the points not yet done onto the cluster,
each result into the file as it arrives. Ctrl-C keeps what finished; running the same sweep again resumes."""

from collections.abc import Callable
from dataclasses import dataclass, field

from neuroshell.sweeps.cluster import dask_client, run_points, slots, warm_up
from neuroshell.sweeps.grid import Point
from neuroshell.sweeps.store import SweepStore


@dataclass
class SweepOutcome:
    """What a sweep did: points in the grid, skipped (already in the file), done and failed now, whether it
    was interrupted, and the first errors (index, text)."""

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class SweepPlan:
    """One sweep: its ``name``, ``recipe`` (JSON-able, identifies the sweep for resuming), ``points``, the
    worker function ``func(*shared, *args_of(point))`` and what to run it on."""

    name: str
    recipe: dict
    points: list[Point]
    func: Callable
    args_of: Callable[[Point], tuple]
    shared: tuple = ()
    workers: int = 1
    scheduler: str | None = None
    warm: Callable[[], None] | None = None  # run once in every worker first (tasks.warm_simulator, ...)


def run_sweep(
    handle,
    plan: SweepPlan,
    overwrite: bool = False,
    on_progress: Callable[[SweepOutcome, int], None] | None = None,
    on_result: Callable[[Point, dict], None] | None = None,
) -> SweepOutcome:
    """Run ``plan`` into ``/sweeps/<name>`` of the open, writable file ``handle``. ``on_progress(outcome,
    running)`` is called as points start and finish; ``on_result(point, result)`` for each finished one."""
    outcome = SweepOutcome(total=len(plan.points))
    on_progress = on_progress or _ignore
    if not overwrite and SweepStore.complete(handle, plan.name, plan.recipe):
        outcome.skipped = outcome.total
        on_progress(outcome, 0)
        return outcome
    with dask_client(plan.workers, plan.scheduler) as client:
        store = SweepStore(handle, plan.name, plan.recipe, plan.points, overwrite)  # only once a cluster answers
        finished = store.done()
        todo = [p for p in plan.points if p.index not in finished]
        outcome.skipped = len(plan.points) - len(todo)
        if not todo:
            on_progress(outcome, 0)
            return outcome
        if plan.warm is not None:
            warm_up(client, plan.warm)
        capacity = slots(client)

        def report() -> None:
            left = len(todo) - outcome.done - outcome.failed
            on_progress(outcome, min(capacity, left))

        def store_result(index: int, result: dict | None, error: str | None) -> None:
            store.write(index, result, error)
            if error is None:
                outcome.done += 1
                if on_result is not None:
                    on_result(plan.points[index], result)
            else:
                outcome.failed += 1
                outcome.errors.append((index, error))
            report()

        report()
        try:
            jobs = [(point.index, plan.args_of(point)) for point in todo]
            run_points(client, plan.func, jobs, store_result, plan.shared)
        except KeyboardInterrupt:
            outcome.interrupted = True
    return outcome


def _ignore(outcome: SweepOutcome, running: int) -> None:
    """No one to tell of the sweep's progress."""
