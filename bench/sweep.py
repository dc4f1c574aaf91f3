"""Sweeps: 16 points of CUBA (4,000 neurons, 1 s) on a Dask LocalCluster with 2 worker processes, against the
same points one after another in one process (a plain Python loop over the library calls), and against a
``concurrent.futures.ProcessPoolExecutor`` with 2 processes doing the same work. Targets: the cluster at
>= 1.7x the points per second of the loop; scheduling overhead < 0.2 s per point.

The cluster is started (and its workers have loaded the kernels) before the clock starts, as a lab's cluster
is; its start-up time is reported on its own line. The pool is timed the same way (started and warmed first).

Run: python bench/sweep.py [--points 16] [--workers 2] [--repeats 5]
"""

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import byte_compile_neuroshell

from neuroshell.neuron.examples import cuba
from neuroshell.sweeps.cluster import dask_client, run_points, warm_up
from neuroshell.sweeps.grid import grid, resolve
from neuroshell.sweeps.run import SweepPlan, run_sweep
from neuroshell.sweeps.tasks import simulate_point, warm_simulator

DURATION_S, DT_S = 1.0, 1e-4


def points(count: int):
    network = cuba(4000)
    side = max(1, round(count**0.5))
    weights = [1.2e-3 + 0.1e-3 * i for i in range(side)]
    taus = [18e-3 + 1e-3 * i for i in range(count // side)]
    axes = [(resolve(network, "exc->inh.w"), weights), (resolve(network, "exc.tau_m"), taus)]
    chosen = grid([(a.text, v) for a, v in axes], [0])
    return network, [a for a, _ in axes], chosen


def line(label: str, seconds: float, count: int, loop_s: float) -> None:
    print(f"{label:<28} {seconds:6.2f} s, {count / seconds:5.2f} points/s, {loop_s / seconds:.2f}x the loop")


def keep_wall(finished: dict[int, float]):
    return lambda key, result, error: finished.__setitem__(key, result["wall_s"])


def warm(_: int) -> None:
    warm_simulator()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    byte_compile_neuroshell()
    network, addresses, chosen = points(args.points)
    text = network.to_json()
    jobs = [(p.index, (p.values, DURATION_S, DT_S, p.seed, False)) for p in chosen]
    print(f"{len(chosen)} points of CUBA 4k x {DURATION_S:g} s; {args.workers} workers where parallel")

    warm_simulator()  # kernels compiled and loaded here too
    loop_runs, pool_runs, dask_runs, overheads = [], [], [], []
    started = time.perf_counter()
    with dask_client(args.workers) as client, ProcessPoolExecutor(args.workers) as pool:
        warm_up(client, warm_simulator)
        start_s = time.perf_counter() - started
        list(pool.map(warm, range(args.workers)))
        for _ in range(args.repeats):  # interleaved: this machine's speed drifts between minutes
            started = time.perf_counter()
            for _, point in jobs:
                simulate_point(text, addresses, *point)
            loop_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            list(pool.map(simulate_point, *zip(*[(text, addresses, *a) for _, a in jobs], strict=True)))
            pool_runs.append(time.perf_counter() - started)
            finished: dict[int, float] = {}
            started = time.perf_counter()
            run_points(client, simulate_point, jobs, keep_wall(finished), (text, addresses))
            dask_runs.append(time.perf_counter() - started)
            overheads.append((dask_runs[-1] * args.workers - sum(finished.values())) / len(jobs))
        loop_s, pool_s, dask_s = (statistics.median(runs) for runs in (loop_runs, pool_runs, dask_runs))
        print(f"medians of {args.repeats} interleaved runs:")
        line("plain loop in one process", loop_s, len(jobs), loop_s)
        line(f"ProcessPoolExecutor({args.workers})", pool_s, len(jobs), loop_s)
        line(f"Dask LocalCluster({args.workers})", dask_s, len(jobs), loop_s)
        speedup, overhead = loop_s / dask_s, statistics.median(overheads)
        print(f"  target >= 1.7x the loop: {'met' if speedup >= 1.7 else 'MISSED'} (runs: "
              + ", ".join(f"{a / b:.2f}x" for a, b in zip(loop_runs, dask_runs, strict=True)) + ")")  # fmt: skip
        verdict = "met" if overhead < 0.2 else "MISSED"
        print(f"  scheduling overhead {overhead * 1e3:.0f} ms per point (target < 200 ms: {verdict})")
        print(f"  cluster start and warm-up (not timed above): {start_s:.2f} s")
        with tempfile.TemporaryDirectory() as folder, h5py.File(Path(folder) / "sweep.h5", "w") as handle:
            recipe = {"kind": "simulate", "axes": [(a.text, []) for a in addresses], "units": ["V", "s"]}
            plan = SweepPlan(
                "bench",
                recipe,
                chosen,
                simulate_point,
                lambda p: (p.values, DURATION_S, DT_S, p.seed, False),
                shared=(text, addresses),
                workers=args.workers,
                warm=warm_simulator,
            )
            started = time.perf_counter()
            run_sweep(handle, plan)
            verb_s = time.perf_counter() - started
    print(f"the whole sweep as the verb runs it (a new cluster, results into HDF5): {verb_s:.2f} s")


if __name__ == "__main__":
    main()
