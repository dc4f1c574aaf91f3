"""The benchmark networks in Brian2, with the parameters of neuroshell's ``net example`` (bench/simulate.py).

Each builder returns the spike monitor, the Brian2 objects and the names its equations use;
connectivity is drawn by Brian2 with the same probabilities (Brunel: p = 0.1 for neuroshell's in-degree of
10%), so spikes agree in rate and regularity, not one by one.
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
    exc.connect(p=0.1)
    inh.connect(p=0.1)
    c_e = int(0.1 * n_exc)
    drive = PoissonInput(group, "v", c_e, 2 * theta / (jump * c_e * tau), weight=jump)
    return SpikeMonitor(group), [group, exc, inh, drive], dict(locals())


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
