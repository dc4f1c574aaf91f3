"""Where sweep points run: a Dask LocalCluster of worker processes on this machine (127.0.0.1), or an
existing Dask scheduler. Results come back as they finish; Ctrl-C cancels what has not."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from neuroshell.common.errors import UserError
from neuroshell.sweeps.grid import SweepError

EXTRA = "pip install 'neuroshell[sweep]'"
CONNECT_TIMEOUT_S = 10
TASKS_PER_SLOT = 2
SCATTER_BYTES = 1 << 20
# A point may take only tens of milliseconds: the workers' housekeeping must not tax it. Their statistical
# profiler samples every thread's stack every 10 ms (nobody reads it: no dashboard), the event-loop tick
# runs every 20 ms and the system monitor every 500 ms; all take the GIL from the point's thread.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    # Dask sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which also fixes glibc's mmap threshold: every
    # array a point allocates is then mapped and faulted in afresh (points ran 25-40% slower than in-process).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SweepError(f"sweeps run on Dask distributed: {EXTRA}") from None
    return distributed


@contextmanager
def dask_client(workers: int, scheduler: str | None = None) -> Iterator:
    """A Dask client: of a new LocalCluster with ``workers`` single-threaded processes (bound to 127.0.0.1,
    no dashboard), or of the scheduler at ``scheduler`` (``tcp://HOST:8786``). Closed (and the local
    cluster stopped) on leaving."""
    distributed = _distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SweepError(
                f"no Dask scheduler answers at {scheduler} ({error}): start one, or leave out --scheduler"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    with dask.config.set(QUIET_WORKERS), _sigint_ignored_by_children():
        cluster = _local_cluster(distributed, workers)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """The workers are started with SIGINT ignored, which they keep: a Ctrl-C at the terminal reaches the whole
    process group, and each worker printed its own KeyboardInterrupt traceback over the shell's screen. The
    shell cancels the sweep itself (``run_points``)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _local_cluster(distributed, workers: int):
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,  # one point per process: a simulation uses its core fully
        processes=True,
        host="127.0.0.1",
        # No dashboard; Dask's HTTP endpoints (health, metrics) still start: on loopback, any free port.
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,  # a failing point is recorded and reported once, not logged by workers
    )


def warm_up(client, warm: Callable[[], None]) -> None:
    """Run ``warm`` in every worker (loading compiled kernels, importing torch), so that the first points do
    not pay for it."""
    client.run(warm)


def slots(client) -> int:
    """How many points the cluster runs at once (its workers' threads)."""
    return max(1, sum(client.nthreads().values()))


def run_points(client, func: Callable, jobs: list[tuple[int, tuple]], on_result: Callable, shared: tuple = ()) -> None:
    """Run ``func(*shared, *args)`` for every ``(key, args)`` in ``jobs`` on the cluster and call
    ``on_result(key, result, error)`` as each finishes (``error``: one line, or None). ``shared`` arguments
    are sent to the workers once. Ctrl-C cancels the points not finished and re-raises.

    Points travel in batches of a few when there are many per worker: a point can take only tens of
    milliseconds, and each Dask task costs the scheduler (on this machine, a share of the same cores) a few;
    at least TASKS_PER_SLOT tasks per worker thread keep the load balanced."""
    distributed = _distributed()
    shared = tuple(_shipped(client, value) for value in shared)
    size = max(1, len(jobs) // (slots(client) * TASKS_PER_SLOT))
    batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    futures = {client.submit(run_batch, func, shared, batch, pure=False): batch for batch in batches}
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            batch = futures.pop(future)
            if future.status == "error":  # the batch itself failed (a worker lost): so did each of its points
                outcomes = [(key, None, _one_line(future.exception())) for key, _ in batch]
            else:
                outcomes = future.result()
            future.release()
            for key, result, error in outcomes:
                on_result(key, result, error)
    except BaseException:
        client.cancel(list(futures), force=True)
        raise


def _shipped(client, value):
    """A large shared value (a dataset) is sent to every worker once, ahead; a small one (a network's
    description) rides along with each task, which costs less than a round trip to scatter it."""
    if _size_bytes(value) < SCATTER_BYTES:
        return value
    return client.scatter(value, broadcast=True, hash=False)


def _size_bytes(value) -> int:
    """About how many bytes ``value`` carries: its arrays and texts, through lists, dicts and dataclasses."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(_size_bytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_size_bytes(v) for v in value)
    if hasattr(value, "__dict__"):
        return _size_bytes(vars(value))
    return 8


def run_batch(func: Callable, shared: tuple, batch: list[tuple[int, tuple]]) -> list[tuple[int, object, str | None]]:
    """In a worker: each point of ``batch`` in turn, its error (one line) kept in place of its result."""
    outcomes = []
    for key, args in batch:
        try:
            outcomes.append((key, func(*shared, *args), None))
        except Exception as error:  # a failing point is recorded; the others go on
            outcomes.append((key, None, _one_line(error)))
    return outcomes


def _one_line(error: BaseException) -> str:
    """A point's error as one line: a user's mistake as its message, anything else with its type."""
    text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
    return text.splitlines()[0] if text else type(error).__name__
