"""A million LIF neurons with 80 synapses each (CUBA's populations and weights, in-degree 64 excitatory + 16
inhibitory), 1 s of biological time: build time, loop time, neuron updates per second, bytes per synapse
and the process's peak resident memory.

Run: python bench/million.py [--n 1000000] [--duration 1]
Targets: it builds and runs on this 2-core, 24 GiB machine; a static synapse costs at most 8 bytes.
"""

import argparse
import time

from bytecode import byte_compile_neuroshell

DT = 1e-4


def network(n: int):
    from neuroshell.neuron.network import Network

    lif = {"e_l": -49e-3, "v_th": -50e-3, "v_reset": -60e-3, "t_ref": 5e-3, "v_init": -60e-3, "v_init_spread": 10e-3}
    net = Network("million")
    net.add_population("exc", "lif", int(0.8 * n), lif)
    net.add_population("inh", "lif", n - int(0.8 * n), lif)
    for target in ("exc", "inh"):
        net.connect("exc", target, "indegree=64", 1.62e-3, "V", tau_s=5e-3)
        net.connect("inh", target, "indegree=16", -9e-3, "V", tau_s=10e-3)
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=1.0, help="biological seconds")
    args = parser.parse_args()
    byte_compile_neuroshell()
    from neuroshell.neuron.simulator import simulate

    simulate(network(1000), 0.01, dt_s=DT)  # the kernel's first load, outside the figures
    started = time.perf_counter()
    result = simulate(network(args.n), args.duration, dt_s=DT, seed=1)
    total = time.perf_counter() - started
    per_synapse = result.synapse_bytes / result.n_synapses
    rows = [
        ("network", f"{args.n:,} LIF neurons, {result.n_synapses:,} synapses, {args.duration:g} s at dt 0.1 ms", ""),
        ("build", f"{result.build_s:.1f} s", ""),
        ("loop", f"{result.wall_s:.1f} s ({args.n * args.duration / DT / result.wall_s:.3g} neuron updates/s)", ""),
        ("end to end", f"{total:.1f} s, {len(result.spike_index):,} spikes", ""),
        ("bytes per synapse", f"{per_synapse:.2f}", "target <= 8: " + ("met" if per_synapse <= 8 else "MISSED")),
        ("peak resident memory", f"{result.peak_resident_bytes / 2**20:.0f} MB", "target: fits in 24 GiB"),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value}  {verdict}")


if __name__ == "__main__":
    main()
