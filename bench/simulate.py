"""CUBA, COBA and Brunel with neuroshell (1 and 2 threads) and with Brian2, in the same run.

Networks as ``net example`` builds them (bench/brian2_models.py has Brian2's): CUBA (Vogels & Abbott 2005,
current-based exponential synapses) and COBA (Brette et al. 2007, conductance-based, with its Poisson
drive) with in-degree 80; Brunel (2000) model A with delta synapses, 1.5 ms delays and 10% connectivity.
Each engine runs in a fresh process that builds the network, simulates it and writes the spikes to HDF5.
Printed per run: the simulation loop's wall time, the end-to-end wall time of the process (fresh process to
spikes in HDF5), the mean rate and CV of the inter-spike intervals (after the first 100 ms), neuron updates
per second, and neuroshell's estimated memory traffic per step and its rate beside this machine's copy
bandwidth (what the distance to the memory limit is measured against); then the ratios.

Brian2 runs with cpp_standalone (the loop is timed by Brian2 itself, ``device._last_run_time``; the
end-to-end time includes its C++ compilation) and with its default runtime target, cython, with a warm cache
(the loop is the sum of Brian2's own per-code-object profile); both on one thread. neuroshell's numba cache
is warmed once before timing. Before the table, one run each with cold caches shows the first-compile cost.

Figures are medians over --repeats runs for cases up to 50,000 neurons; larger cases run once.

Then the thread count (CUBA at 40k and 200k, 1 s): one thread, two, and the default (``auto``), on an idle
machine and beside one CPU-bound process (a busy machine: another program, a recording, a browser).

Run: python bench/simulate.py [--cases cuba:4000,cuba:40000,...] [--durations 1,10] [--threads 1,2] [--repeats 3]
     [--only-threads]
Targets: loop >= 2x and end to end >= 4x Brian2's fastest on one thread; rates within 5% and CV within 0.05
of Brian2's. Threads: busy, the default within 1.1x one thread's loop; idle, the default never slower than
one thread and 2 threads >= 1.4x one thread at 200k.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import byte_compile_neuroshell

DT = 1e-4
REPEATED_UP_TO = 50_000  # neurons
CASES = "cuba:4000,cuba:40000,cuba:200000,coba:4000,coba:40000,brunel:10000,brunel:50000"
SETTLED_S = 0.1
# Per neuron and step: v read and written (16 bytes), refractory step (4), spike flag written and scanned (2),
# and each synaptic channel's float32 state read and written (8 each); per synaptic event: the target index
# (4) and the target's state read and written (8). Delayed networks also add and clear a ring slot per step.
CHANNELS = {"cuba": 2, "coba": 2, "brunel": 1}
DELAYED = {"brunel"}


def worker_neuroshell(network: str, n: int, duration: float, threads: int | str, out: Path) -> dict:
    from neuroshell.neuron import network as examples
    from neuroshell.neuron.simulator import simulate
    from neuroshell.storage.simulations import create_and_write

    result = simulate(examples.EXAMPLES[network](n), duration, dt_s=DT, seed=1, threads=threads)
    create_and_write(out, network, result, time.monotonic)
    return summary(result.spike_times_s, result.spike_index, n, duration, result.wall_s, result.n_synapses)


def worker_brian2_cpp(network: str, n: int, duration: float, threads: int, out: Path) -> dict:
    import numpy as np
    from brian2 import device, set_device
    from brian2_models import build_and_run

    set_device("cpp_standalone", directory=tempfile.mkdtemp(prefix=f"brian2-{network}-"))
    monitor, synapses, _ = build_and_run(network, n, duration, DT, profile=False)
    times, ids = np.asarray(monitor.t), np.asarray(monitor.i)
    save_spikes(out, network, times, ids)
    return summary(times, ids, n, duration, device._last_run_time, synapses)


def worker_brian2_cython(network: str, n: int, duration: float, threads: int, out: Path, cold: bool = False) -> dict:
    import numpy as np
    from brian2 import prefs
    from brian2_models import build_and_run

    prefs.codegen.target = "cython"
    if cold:
        prefs.codegen.runtime.cython.cache_dir = tempfile.mkdtemp(prefix="brian2-cython-cache-")
    monitor, synapses, net = build_and_run(network, n, duration, DT, profile=True)
    loop = sum(float(t) for _, t in net.profiling_info)
    times, ids = np.asarray(monitor.t), np.asarray(monitor.i)
    save_spikes(out, network, times, ids)
    return summary(times, ids, n, duration, loop, synapses)


def summary(times, ids, n: int, duration: float, loop_s: float, synapses: int) -> dict:
    """The run's figures; CV of ISI averaged over neurons with at least two intervals (vectorised: it is
    part of every engine's end-to-end time)."""
    import numpy as np

    settled = times > SETTLED_S
    order = np.lexsort((times[settled], ids[settled]))
    t, i = times[settled][order], ids[settled][order].astype(np.int64)
    same = i[1:] == i[:-1]
    gaps, owner = np.diff(t)[same], i[1:][same]
    count = np.bincount(owner, minlength=n)
    total, squares = np.bincount(owner, gaps, minlength=n), np.bincount(owner, gaps**2, minlength=n)
    kept = count >= 2
    mean = total[kept] / count[kept]
    std = np.sqrt(np.maximum(squares[kept] / count[kept] - mean**2, 0.0))
    return {
        "loop_s": float(loop_s),
        "spikes": len(times),
        "synapses": int(synapses),
        "rate_hz": float(settled.sum() / (n * (duration - SETTLED_S))),
        "cv": float(np.mean(std / mean)) if kept.any() else float("nan"),
    }


def save_spikes(out: Path, network: str, times, indices) -> None:
    import h5py

    with h5py.File(out, "w") as f:
        group = f.create_group(f"spikes/{network}")
        group["timestamps"] = times * 1e3
        group["node_ids"] = indices


WORKERS = {
    "neuroshell": worker_neuroshell,
    "brian2-cpp": worker_brian2_cpp,
    "brian2-cython": worker_brian2_cython,
    "brian2-cython-cold": lambda *a: worker_brian2_cython(*a, cold=True),
}


def run_worker(engine: str, network: str, n: int, duration: float, threads: int, folder: Path, env=None) -> dict:
    out = folder / f"{engine}-{network}-{n}-{duration:g}-{time.monotonic_ns()}.h5"  # a fresh file every run
    started = time.perf_counter()
    command = [sys.executable, __file__, "--worker", engine, network, str(n), str(duration), str(threads), str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    )
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["end_to_end_s"] = total
    out.unlink(missing_ok=True)
    return result


def copy_bandwidth_gb_s() -> float:
    """Bytes read plus written per second copying 512 MB (numpy; the best of 5)."""
    import numpy as np

    source = np.ones(1 << 27, dtype=np.float32)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * source.nbytes / best / 1e9


def traffic_per_step(network: str, n: int, r: dict, duration: float) -> float:
    """Estimated bytes neuroshell moves per step (see CHANNELS)."""
    per_neuron = 22 + 8 * CHANNELS[network] + (8 * CHANNELS[network] if network in DELAYED else 0)
    events_per_step = r["spikes"] * r["synapses"] / n / (duration / DT)
    return n * per_neuron + 12 * events_per_step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=CASES)
    parser.add_argument("--durations", default="1")
    parser.add_argument("--threads", default="1,2", help="neuroshell's thread counts")
    parser.add_argument("--engines", default="neuroshell,brian2-cpp,brian2-cython")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only-threads", action="store_true", help="only the thread-count section")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, network, n, duration, threads, out = args.worker
        count = threads if threads == "auto" else int(threads)
        print(json.dumps(WORKERS[engine](network, int(n), float(duration), count, Path(out))))
        return
    engines, threads = args.engines.split(","), [int(t) for t in args.threads.split(",")]
    byte_compile_neuroshell()
    bandwidth = copy_bandwidth_gb_s()
    print(f"This machine copies at {bandwidth:.1f} GB/s (read + write, 512 MB, numpy)")
    with tempfile.TemporaryDirectory() as folder:
        report_first_compile(Path(folder), engines)
        run_worker("neuroshell", "cuba", 4000, 0.01, 1, Path(folder))  # warm numba's cache, as the target states
        if args.only_threads:
            report_threads(Path(folder), args.repeats)
            return
        print(f"Each figure is the median of {args.repeats} runs up to {REPEATED_UP_TO:,} neurons; one run above.")
        print(
            f"{'network':>7} {'N':>7} {'bio s':>5} {'engine':16} {'loop s':>8} {'end-to-end s':>12} {'rate Hz':>8} "
            f"{'CV':>5} {'neuron upd/s':>13} {'traffic/step':>12} {'GB/s':>6}"
        )
        for case in args.cases.split(","):
            network, n = case.split(":")[0], int(case.split(":")[1])
            for duration in (float(v) for v in args.durations.split(",")):
                repeats = args.repeats if n <= REPEATED_UP_TO else 1
                runs = {}
                for engine in engines:
                    for t in threads if engine == "neuroshell" else [1]:
                        label = f"neuroshell {t}t" if engine == "neuroshell" else engine
                        runs[label] = median_run(engine, network, n, duration, t, Path(folder), repeats)
                for label, r in runs.items():
                    print_row(network, n, duration, label, r)
                report_ratios(runs, threads)
        report_threads(Path(folder), args.repeats)


def print_row(network: str, n: int, duration: float, label: str, r: dict) -> None:
    updates = n * duration / DT / r["loop_s"]
    line = (
        f"{network:>7} {n:>7} {duration:>5g} {label:16} {r['loop_s']:>8.3f} {r['end_to_end_s']:>12.2f} "
        f"{r['rate_hz']:>8.2f} {r['cv']:>5.2f} {updates:>13.3g}"
    )
    if label.startswith("neuroshell"):
        step_bytes = traffic_per_step(network, n, r, duration)
        line += f" {step_bytes / 1e6:>9.2f} MB {step_bytes * duration / DT / r['loop_s'] / 1e9:>6.1f}"
    print(line)


def median_run(engine: str, network: str, n: int, duration: float, threads, folder: Path, repeats: int) -> dict:
    runs = [run_worker(engine, network, n, duration, threads, folder) for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def report_first_compile(folder: Path, engines: list[str]) -> None:
    """End to end, CUBA at N = 4,000 for 1 s, with every compiled-code cache empty."""
    figures = []
    if "neuroshell" in engines:
        cold_env = {"NUMBA_CACHE_DIR": str(folder / "numba-cold")}
        cold = run_worker("neuroshell", "cuba", 4000, 1.0, 1, folder, env=cold_env)
        figures.append(f"neuroshell {cold['end_to_end_s']:.1f} s (numba compiles the kernels)")
    if "brian2-cython" in engines:
        cold = run_worker("brian2-cython-cold", "cuba", 4000, 1.0, 1, folder)
        figures.append(f"Brian2 cython {cold['end_to_end_s']:.1f} s (Cython compiles the code objects)")
    if figures:
        print("First run with cold caches, CUBA N = 4000, 1 s, end to end: " + "; ".join(figures))
        print("(Brian2 cpp_standalone compiles on every run: its end-to-end column below includes it.)\n")


def report_ratios(runs: dict, threads: list[int]) -> None:
    brian = {k: v for k, v in runs.items() if k.startswith("brian2")}
    one = runs.get("neuroshell 1t")
    if one and brian:
        loop_ratio = min(r["loop_s"] for r in brian.values()) / one["loop_s"]
        e2e_ratio = min(r["end_to_end_s"] for r in brian.values()) / one["end_to_end_s"]
        rate = statistics.mean(r["rate_hz"] for r in brian.values())
        cv = statistics.mean(r["cv"] for r in brian.values())
        print(
            f"{'':14} 1 thread: loop {loop_ratio:.2f}x Brian2's fastest (target 2x: "
            f"{'met' if loop_ratio >= 2 else 'NOT met'}); end to end {e2e_ratio:.2f}x (target 4x: "
            f"{'met' if e2e_ratio >= 4 else 'NOT met'}); rate {one['rate_hz'] / rate:.3f}x Brian2's, "
            f"CV {one['cv'] - cv:+.3f}"
        )
    for t in threads[1:]:
        if one and f"neuroshell {t}t" in runs:
            print(f"{'':14} {t} threads: loop {one['loop_s'] / runs[f'neuroshell {t}t']['loop_s']:.2f}x 1 thread")


def report_threads(folder: Path, repeats: int) -> None:
    """CUBA's loop on 1 and 2 threads and the default (auto), idle and beside one CPU-bound process."""
    print(f"\nThreads, CUBA 1 s, loop seconds (medians of {repeats}); busy: one CPU-bound process beside the run")
    for n in (40_000, 200_000):
        idle = {t: median_run("neuroshell", "cuba", n, 1.0, t, folder, repeats)["loop_s"] for t in (1, 2, "auto")}
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            busy = {t: median_run("neuroshell", "cuba", n, 1.0, t, folder, repeats)["loop_s"] for t in (1, 2, "auto")}
        finally:
            spinner.kill()
        for name, loops in (("idle", idle), ("busy", busy)):
            print(f"{'cuba':>7} {n:>7} {name}: 1 thread {loops[1]:.3f}, 2 threads {loops[2]:.3f}, "
                  f"default (auto) {loops['auto']:.3f}")  # fmt: skip
        busy_ratio, idle_ratio, two = busy["auto"] / busy[1], idle["auto"] / idle[1], idle[1] / idle[2]
        verdict = {True: "met", False: "NOT met"}
        line = (
            f"{'':14} busy: default {busy_ratio:.2f}x one thread's loop (target <= 1.1x: {verdict[busy_ratio <= 1.1]}"
            f"; 2 threads {busy[2] / busy[1]:.2f}x); idle: default {1 / idle_ratio:.2f}x one thread's speed "
            f"(target >= 1: {verdict[idle_ratio <= 1.0]}); 2 threads {two:.2f}x"
        )
        print(line + (f" (target >= 1.4x: {verdict[two >= 1.4]})" if n == 200_000 else ""))


if __name__ == "__main__":
    main()
