"""STDP: Song, Miller and Abbott (2000) as Brian2's STDP example, with neuroshell and with Brian2, in one run.

1000 Poisson inputs at 15 Hz onto one LIF neuron through additive STDP synapses, 100 s of biological time
(dt 0.1 ms). Each engine runs in a fresh process: neuroshell (`net example stdp`, numba cache warm), Brian2
cpp_standalone (loop timed by Brian2, ``device._last_run_time``; end to end includes its C++ build) and
Brian2 cython (warm cache; the loop is the sum of Brian2's own profile). Printed per engine: loop and end-to-
end wall time, the neuron's spikes, and the final weight distribution (share of weights below 0.1 wmax and
above 0.9 wmax), then the ratios.

Run: python bench/stdp.py [--seconds 100] [--repeats 3]
Targets: loop >= 2x faster than Brian2's fastest target; the shares within 0.05 of Brian2's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bytecode import byte_compile_neuroshell

DT = 1e-4


def worker_neuroshell(seconds: float) -> dict:
    from neuroshell.neuron.examples import song_abbott
    from neuroshell.neuron.simulator import simulate

    result = simulate(song_abbott(), seconds, dt_s=DT, seed=1, threads=1)
    weights = result.learned["input->neuron"] / 0.6e-3
    return {"loop_s": result.wall_s, "spikes": result.spike_count("neuron"), **shares(weights)}


def brian2_song_abbott(seconds: float, profile: bool):
    from brian2 import NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, defaultclock, ms, mV, run, second

    defaultclock.dt = DT * second
    taum, taupre, taupost, taue = 10 * ms, 20 * ms, 20 * ms, 5 * ms  # noqa: F841 (named in the equations)
    ee, vt, vr, el, gmax = 0 * mV, -54 * mV, -60 * mV, -74 * mV, 0.01  # noqa: F841
    d_apre, d_apost = 0.01 * gmax, -0.01 * 1.05 * gmax  # noqa: F841
    inputs = PoissonGroup(1000, rates=15 / second)
    neuron = NeuronGroup(1, "dv/dt = (ge * (ee - vr) + el - v) / taum : volt\ndge/dt = -ge / taue : 1",
                         threshold="v > vt", reset="v = vr", method="euler")  # fmt: skip
    neuron.v = vr
    synapses = Synapses(
        inputs, neuron,
        "w : 1\ndApre/dt = -Apre / taupre : 1 (event-driven)\ndApost/dt = -Apost / taupost : 1 (event-driven)",
        on_pre="ge += w\nApre += d_apre\nw = clip(w + Apost, 0, gmax)",
        on_post="Apost += d_apost\nw = clip(w + Apre, 0, gmax)",
    )  # fmt: skip
    synapses.connect()
    synapses.w = "rand() * gmax"
    monitor = SpikeMonitor(neuron)
    run(seconds * second, profile=profile)
    return monitor, synapses


def worker_brian2_cpp(seconds: float) -> dict:
    import numpy as np
    from brian2 import device, set_device

    set_device("cpp_standalone", directory=tempfile.mkdtemp(prefix="brian2-stdp-"))
    monitor, synapses = brian2_song_abbott(seconds, profile=False)
    weights = np.asarray(synapses.w) / 0.01
    return {"loop_s": device._last_run_time, "spikes": int(monitor.num_spikes), **shares(weights)}


def worker_brian2_cython(seconds: float) -> dict:
    import numpy as np
    from brian2 import magic_network, prefs

    prefs.codegen.target = "cython"
    monitor, synapses = brian2_song_abbott(seconds, profile=True)
    loop = sum(float(t) for _, t in magic_network.profiling_info)
    weights = np.asarray(synapses.w) / 0.01
    return {"loop_s": loop, "spikes": int(monitor.num_spikes), **shares(weights)}


def shares(weights) -> dict:
    return {"low": float((weights < 0.1).mean()), "high": float((weights > 0.9).mean())}


WORKERS = {"neuroshell": worker_neuroshell, "brian2-cpp": worker_brian2_cpp, "brian2-cython": worker_brian2_cython}


def run_worker(engine: str, seconds: float) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--worker", engine, str(seconds)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "end_to_end_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=100.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker[0]](float(args.worker[1]))))
        return
    byte_compile_neuroshell()
    for engine in WORKERS:  # warm caches: numba's, Brian2 cython's
        run_worker(engine, 0.1)
    runs = {engine: [] for engine in WORKERS}
    for _ in range(args.repeats):  # interleaved, so that the machine's swings hit every engine alike
        for engine in WORKERS:
            runs[engine].append(run_worker(engine, args.seconds))
    medians = {e: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for e, rs in runs.items()}
    print(f"Song-Abbott STDP, 1000 inputs, {args.seconds:g} s, medians of {args.repeats}")
    print(f"{'engine':<15}{'loop s':>9}{'end to end s':>14}{'spikes':>9}{'< 0.1 wmax':>12}{'> 0.9 wmax':>12}")
    for engine, m in medians.items():
        print(
            f"{engine:<15}{m['loop_s']:>9.2f}{m['end_to_end_s']:>14.2f}{m['spikes']:>9.0f}{m['low']:>12.3f}{m['high']:>12.3f}"
        )
    ours = medians["neuroshell"]
    fastest = min((m["loop_s"], e) for e, m in medians.items() if e != "neuroshell")
    ratio = fastest[0] / ours["loop_s"]
    print(f"loop: {ratio:.1f}x faster than {fastest[1]} (target >= 2x: {'met' if ratio >= 2 else 'MISSED'})")
    end = min(m["end_to_end_s"] for e, m in medians.items() if e != "neuroshell") / ours["end_to_end_s"]
    print(f"end to end: {end:.1f}x faster than Brian2's fastest end to end")
    brian = medians["brian2-cython"]
    close = abs(ours["low"] - brian["low"]) <= 0.05 and abs(ours["high"] - brian["high"]) <= 0.05
    print(f"weights: shares within 0.05 of Brian2's: {'met' if close else 'MISSED'}")


if __name__ == "__main__":
    main()
