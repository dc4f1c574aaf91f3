"""CUBA (Vogels & Abbott 2005 / Brette et al. 2007) with neuroshell and with Brian2, in the same run.

For N = 4,000, 40,000 and 200,000 neurons (in-degree kept at 80: p = 80 / N) and 1 s and 10 s of
biological time, each engine runs in a fresh process that builds the network, simulates it and writes
the spikes to HDF5. Printed per run: the simulation loop's wall time, the end-to-end wall time of the
process (fresh process to spikes in HDF5), spikes, neuron updates per second and synaptic events per
second, and the ratios neuroshell / Brian2.

Brian2 runs with cpp_standalone (its fastest target on this machine: the loop is timed by Brian2 itself,
``device._last_run_time``; the end-to-end time includes its C++ compilation) and with its default runtime
target, cython, with a warm cache (the loop is the sum of Brian2's own per-code-object profile).
neuroshell's numba cache is warmed once before timing, as the target states. Before the table, one
run each with cold caches (numba's and Brian2 cython's, in fresh folders) shows the first-compile cost;
cpp_standalone compiles on every run, so its end-to-end column already includes it.

Runs up to 40,000 neurons are repeated (--repeats, default 3) and each figure is the median over the
repeats, as a single short run swings by tens of percent on a shared machine; runs at 200,000 neurons take
minutes and run once.

Run: python bench/simulate.py [--sizes 4000,40000,200000] [--durations 1,10] [--repeats 3]
Targets: loop >= 2x faster than Brian2's fastest loop at every size; end to end >= 4x faster than
Brian2's fastest end to end; spike counts in agreement.
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
REPEATED_UP_TO = 40_000  # neurons


def worker_neuroshell(n: int, duration: float, out: Path) -> dict:
    from neuroshell.neuron.network import cuba
    from neuroshell.neuron.simulator import simulate
    from neuroshell.storage.simulations import create_and_write

    result = simulate(cuba(n), duration, dt_s=DT, seed=1)
    create_and_write(out, "cuba", result, time.monotonic)
    return {"loop_s": result.wall_s, "spikes": len(result.spike_index), "synapses": result.n_synapses}


def cuba_brian2(n: int, duration: float, profile: bool):
    from brian2 import NeuronGroup, SpikeMonitor, Synapses, defaultclock, ms, mV, run, second

    defaultclock.dt = DT * second
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms  # noqa: F841 (used by name in the equations)
    vt, vr, el = -50 * mV, -60 * mV, -49 * mV  # noqa: F841
    eqs = """dv/dt = (ge + gi - (v - el)) / taum : volt (unless refractory)
             dge/dt = -ge / taue : volt
             dgi/dt = -gi / taui : volt"""
    group = NeuronGroup(n, eqs, threshold="v > vt", reset="v = vr", refractory=5 * ms, method="exact")
    group.v = "vr + rand() * (vt - vr)"
    n_exc = round(0.8 * n)
    exc = Synapses(group[:n_exc], group, on_pre="ge += 1.62*mV")
    inh = Synapses(group[n_exc:], group, on_pre="gi += -9*mV")
    exc.connect(p=80 / n)
    inh.connect(p=80 / n)
    monitor = SpikeMonitor(group)
    run(duration * second, profile=profile)
    return monitor, len(exc) + len(inh)


def save_spikes(out: Path, times, indices) -> None:
    import h5py

    with h5py.File(out, "w") as f:
        group = f.create_group("spikes/cuba")
        group["timestamps"] = times * 1e3
        group["node_ids"] = indices


def worker_brian2_cpp(n: int, duration: float, out: Path) -> dict:
    import numpy as np
    from brian2 import device, set_device

    set_device("cpp_standalone", directory=tempfile.mkdtemp(prefix="brian2-cuba-"))
    monitor, synapses = cuba_brian2(n, duration, profile=False)
    save_spikes(out, np.asarray(monitor.t), np.asarray(monitor.i))
    return {"loop_s": device._last_run_time, "spikes": int(monitor.num_spikes), "synapses": int(synapses)}


def worker_brian2_cython(n: int, duration: float, out: Path, cold: bool = False) -> dict:
    import numpy as np
    from brian2 import magic_network, prefs

    prefs.codegen.target = "cython"
    if cold:
        prefs.codegen.runtime.cython.cache_dir = tempfile.mkdtemp(prefix="brian2-cython-cache-")
    monitor, synapses = cuba_brian2(n, duration, profile=True)
    loop = sum(float(t) for _, t in magic_network.profiling_info)
    save_spikes(out, np.asarray(monitor.t), np.asarray(monitor.i))
    return {"loop_s": loop, "spikes": int(monitor.num_spikes), "synapses": int(synapses)}


WORKERS = {
    "neuroshell": worker_neuroshell,
    "brian2-cpp": worker_brian2_cpp,
    "brian2-cython": worker_brian2_cython,
    "brian2-cython-cold": lambda n, duration, out: worker_brian2_cython(n, duration, out, cold=True),
}


def run_worker(engine: str, n: int, duration: float, folder: Path, env: dict | None = None) -> dict:
    out = folder / f"{engine}-{n}-{duration:g}-{time.monotonic_ns()}.h5"  # a fresh file for every run
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--worker", engine, str(n), str(duration), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
    )
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["end_to_end_s"] = total
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4000,40000,200000")
    parser.add_argument("--durations", default="1,10")
    parser.add_argument("--engines", default="neuroshell,brian2-cpp,brian2-cython")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, n, duration, out = args.worker
        print(json.dumps(WORKERS[engine](int(n), float(duration), Path(out))))
        return
    engines = args.engines.split(",")
    byte_compile_neuroshell()
    with tempfile.TemporaryDirectory() as folder:
        report_first_compile(Path(folder), engines)
        run_worker("neuroshell", 4000, 0.01, Path(folder))  # warm numba's cache, as the target states
        print(f"Each figure is the median of {args.repeats} runs up to {REPEATED_UP_TO:,} neurons; one run above.")
        header = f"{'N':>7} {'bio s':>5} {'engine':14} {'loop s':>8} {'end-to-end s':>12} {'spikes':>10} "
        print(header + f"{'neuron upd/s':>13} {'syn events/s':>13}")
        for n in (int(v) for v in args.sizes.split(",")):
            for duration in (float(v) for v in args.durations.split(",")):
                repeats = args.repeats if n <= REPEATED_UP_TO else 1
                results = {engine: median_run(engine, n, duration, Path(folder), repeats) for engine in engines}
                for engine, r in results.items():
                    updates = n * duration / DT / r["loop_s"]
                    events = r["spikes"] * r["synapses"] / n / r["loop_s"]
                    print(
                        f"{n:>7} {duration:>5g} {engine:14} {r['loop_s']:>8.3f} {r['end_to_end_s']:>12.2f} "
                        f"{r['spikes']:>10} {updates:>13.3g} {events:>13.3g}"
                    )
                report_ratios(results)


def median_run(engine: str, n: int, duration: float, folder: Path, repeats: int) -> dict:
    runs = [run_worker(engine, n, duration, folder) for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def report_first_compile(folder: Path, engines: list[str]) -> None:
    """End to end at N = 4,000 for 1 s with every compiled-code cache empty."""
    figures = []
    if "neuroshell" in engines:
        cold = run_worker("neuroshell", 4000, 1.0, folder, env={"NUMBA_CACHE_DIR": str(folder / "numba-cold")})
        figures.append(f"neuroshell {cold['end_to_end_s']:.1f} s (numba compiles the kernels)")
    if "brian2-cython" in engines:
        cold = run_worker("brian2-cython-cold", 4000, 1.0, folder)
        figures.append(f"Brian2 cython {cold['end_to_end_s']:.1f} s (Cython compiles the code objects)")
    if figures:
        print("First run with cold caches, N = 4000, 1 s, end to end: " + "; ".join(figures))
        print("(Brian2 cpp_standalone compiles on every run: its end-to-end column below includes it.)\n")


def report_ratios(results: dict) -> None:
    ours = results.get("neuroshell")
    brian = {k: v for k, v in results.items() if k.startswith("brian2")}
    if not ours or not brian:
        return
    fastest_loop = min(r["loop_s"] for r in brian.values())
    fastest_e2e = min(r["end_to_end_s"] for r in brian.values())
    loop_ratio = fastest_loop / ours["loop_s"]
    e2e_ratio = fastest_e2e / ours["end_to_end_s"]
    spikes = [r["spikes"] for r in brian.values()]
    agreement = ours["spikes"] / (sum(spikes) / len(spikes))
    print(
        f"{'':14} neuroshell loop {loop_ratio:.1f}x faster than Brian2's fastest loop (target 2x: "
        f"{'met' if loop_ratio >= 2 else 'NOT met'}); end to end {e2e_ratio:.1f}x (target 4x: "
        f"{'met' if e2e_ratio >= 4 else 'NOT met'}); spikes {agreement:.2f}x Brian2's mean"
    )


if __name__ == "__main__":
    main()
