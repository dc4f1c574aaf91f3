"""The benchmark networks in Brian2, with the parameters of neuroshell's ``net example`` (bench/simulate.py).

Each builder returns the spike monitor, the Brian2 objects and the names its equations use;
CUBA's and COBA's connectivity is drawn by Brian2 with the same rule (each pair with p = 80 / n), so spikes
agree in rate and regularity, not one by one. Brunel's (a fixed in-degree of 10% of each source population,
as Brunel (2000) and NEST's brunel_delta_nest) is given to Brian2 as explicit pairs, sorted by source and
drawn by neuroshell's builder in Brian2's process (its time counts in Brian2's end to end): Brian2's own
``connect(i="k for k in sample(N_pre, size=c_e)")`` makes the same model but stores the synapses by target,
and its loop then ran 2x slower at 10k neurons and 3.7x at 50k (8.2 s and 78 s against 3.96 s and 21.3 s
with source-ordered synapses).
"""


def cuba(n: int):
    from brian2 import NeuronGroup, SpikeMonitor, Synapses, ms, mV

    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms  # used by name in the equations
    vt, vr, el = -50 * mV, -60 * mV, -49 * mV
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
    return SpikeMonitor(group), [group, exc, inh], dict(locals())


def coba(n: int):
    from brian2 import Hz, NeuronGroup, PoissonInput, SpikeMonitor, Synapses, ms, mV, nS, pF

    taue, taui, c_m, g_l = 5 * ms, 10 * ms, 200 * pF, 10 * nS
    e_l, e_e, e_i, vt, vr = -60 * mV, 0 * mV, -80 * mV, -50 * mV, -60 * mV
    eqs = """dv/dt = (g_l * (e_l - v) + ge * (e_e - v) + gi * (e_i - v)) / c_m : volt (unless refractory)
             dge/dt = -ge / taue : siemens
             dgi/dt = -gi / taui : siemens"""
    group = NeuronGroup(n, eqs, threshold="v > vt", reset="v = vr", refractory=5 * ms, method="exponential_euler")
    group.v = "vr + rand() * (vt - vr)"
    n_exc = round(0.8 * n)
    exc = Synapses(group[:n_exc], group, on_pre="ge += 6*nS")
    inh = Synapses(group[n_exc:], group, on_pre="gi += 67*nS")
    exc.connect(p=80 / n)
    inh.connect(p=80 / n)
    drive = PoissonInput(group, "ge", 20, 20 * Hz, weight=6 * nS)
    return SpikeMonitor(group), [group, exc, inh, drive], dict(locals())


def brunel(n: int):
    from brian2 import NeuronGroup, PoissonInput, SpikeMonitor, Synapses, ms, mV

    tau, theta, v_reset, jump = 20 * ms, 20 * mV, 10 * mV, 0.1 * mV
    group = NeuronGroup(n, "dv/dt = -v / tau : volt (unless refractory)", threshold="v > theta",
                        reset="v = v_reset", refractory=2 * ms, method="exact")  # fmt: skip
    group.v = "rand() * theta"
    n_exc = round(0.8 * n)
    exc = Synapses(group[:n_exc], group, on_pre="v += jump", delay=1.5 * ms)
    inh = Synapses(group[n_exc:], group, on_pre="v += -5 * jump", delay=1.5 * ms)
    c_e, c_i = int(0.1 * n_exc), int(0.1 * (n - n_exc))
    for synapses, n_source, in_degree, seed in ((exc, n_exc, c_e, 1), (inh, n - n_exc, c_i, 2)):
        sources, targets = _indegree_pairs(n_source, n, in_degree, seed)
        synapses.connect(i=sources, j=targets)
    del sources, targets  # Brian2 holds its own copy
    drive = PoissonInput(group, "v", c_e, 2 * theta / (jump * c_e * tau), weight=jump)
    return SpikeMonitor(group), [group, exc, inh, drive], dict(locals())


def _indegree_pairs(n_source: int, n_target: int, in_degree: int, seed: int):
    """Each target's ``in_degree`` distinct sources, as (sources, targets) sorted by source."""
    import numpy as np

    from neuroshell.neuron.connectivity import build_csr

    indptr, targets = build_csr("indegree", in_degree, n_source, n_target, seed)
    return np.repeat(np.arange(n_source, dtype=np.int32), np.diff(indptr)), targets


NETWORKS = {"cuba": cuba, "coba": coba, "brunel": brunel}


def build_and_run(network: str, n: int, duration_s: float, dt_s: float, profile: bool):
    """Build ``network`` of ``n`` neurons and run it; (spike monitor, synapse count, Brian2 network)."""
    from brian2 import Network, Quantity, Synapses, defaultclock, second

    defaultclock.dt = dt_s * second
    monitor, objects, names = NETWORKS[network](n)
    namespace = {key: value for key, value in names.items() if isinstance(value, Quantity)}
    net = Network(monitor, *objects)
    net.run(duration_s * second, profile=profile, namespace=namespace)
    return monitor, sum(len(o) for o in objects if isinstance(o, Synapses)), net
