"""Where sweep points run: a Dask LocalCluster of worker processes on this machine (127.0.0.1), or an
existing Dask scheduler. Results come back as they finish; Ctrl-C cancels what has not."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from neuroshell.common.errors import UserError
from neuroshell.sweeps.grid import SweepError

EXTRA = "pip install 'neuroshell[sweep]'"
CONNECT_TIMEOUT_S = 10


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
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,  # one point per process: a simulation uses its core fully
        processes=True,
        host="127.0.0.1",
        # No dashboard; Dask's HTTP endpoints (health, metrics) still start: on loopback, any free port.
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,  # a failing point is recorded and reported once, not logged by workers
    )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


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
    are sent to the workers once. Ctrl-C cancels the points not finished and re-raises."""
    distributed = _distributed()
    if shared:
        shared = tuple(client.scatter(value, broadcast=True) for value in shared)
    futures = {client.submit(func, *shared, *args, pure=False): key for key, args in jobs}
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            key = futures.pop(future)
            if future.status == "error":
                on_result(key, None, _one_line(future.exception()))
            else:
                on_result(key, future.result(), None)
            future.release()
    except BaseException:
        client.cancel(list(futures), force=True)
        raise


def _one_line(error: BaseException) -> str:
    """A point's error as one line: a user's mistake as its message, anything else with its type."""
    text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
    return text.splitlines()[0] if text else type(error).__name__
