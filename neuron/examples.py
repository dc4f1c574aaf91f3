"""The classic networks of the field, built through ``Network``'s methods: CUBA and COBA (Brette et al.
2007), Brunel (2000) model A, and Song, Miller and Abbott's STDP (2000)."""

from neuroshell.neuron.description import PoissonInput
from neuroshell.neuron.network import Network


def cuba(n: int = 4000, name: str = "cuba") -> Network:
    """Vogels & Abbott (2005) / Brette et al. (2007) CUBA: 80% excitatory, 20% inhibitory LIF neurons with
    current-based exponential synapses, connection probability 80/n (0.02 at n = 4000)."""
    network = Network(name)
    lif = {
        "tau_m": 20e-3,
        "e_l": -49e-3,
        "v_th": -50e-3,
        "v_reset": -60e-3,
        "t_ref": 5e-3,
        "v_init": -60e-3,
        "v_init_spread": 10e-3,
    }
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    p = f"p={80 / n:.10g}"
    for target in ("exc", "inh"):
        network.connect("exc", target, p, 1.62e-3, "V", synapse="exp", tau_s=5e-3)
        network.connect("inh", target, p, -9e-3, "V", synapse="exp", tau_s=10e-3)
    return network


def coba(n: int = 4000, name: str = "coba") -> Network:
    """Brette et al. (2007) COBA benchmark: conductance-based exponential synapses (E_e 0 mV, E_i -80 mV,
    6 nS and 67 nS, taus 5 and 10 ms), g_L 10 nS, C 200 pF, with a Poisson drive to start activity."""
    network = Network(name)
    lif = {
        "tau_m": 20e-3,
        "c_m": 200e-12,
        "e_l": -60e-3,
        "v_th": -50e-3,
        "v_reset": -60e-3,
        "t_ref": 5e-3,
        "v_init": -60e-3,
        "v_init_spread": 10e-3,
    }
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    p = f"p={80 / n:.10g}"
    for target in ("exc", "inh"):
        network.connect("exc", target, p, 6e-9, "S", synapse="cond", tau_s=5e-3, e_rev=0.0)
        network.connect("inh", target, p, 67e-9, "S", synapse="cond", tau_s=10e-3, e_rev=-80e-3)
        network.replace_input(target, PoissonInput(20.0, 20, 6e-9, "S", "cond", 5e-3, 0.0))
    return network


def brunel(n: int = 12500, name: str = "brunel", g: float = 5.0, eta: float = 2.0) -> Network:
    """Brunel (2000) sparse excitatory-inhibitory network, model A, as NEST's brunel_delta_nest: delta
    synapses (J 0.1 mV, inhibition -g J), in-degree 10% of each population, delay 1.5 ms, threshold 20 mV
    above rest, reset 10 mV, refractory 2 ms, and C_E external Poisson inputs at eta times the threshold
    rate."""
    network = Network(name)
    tau_m, j_psp = 20e-3, 0.1e-3
    lif = {"tau_m": tau_m, "e_l": 0.0, "v_th": 20e-3, "v_reset": 10e-3, "t_ref": 2e-3, "v_init": 0.0}
    lif["v_init_spread"] = 20e-3
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    c_e, c_i = int(0.1 * n_exc), int(0.1 * (n - n_exc))
    nu_threshold = 20e-3 / (j_psp * c_e * tau_m)
    for target in ("exc", "inh"):
        network.connect("exc", target, f"indegree={c_e}", j_psp, "V", 1.5e-3, "delta")
        network.connect("inh", target, f"indegree={c_i}", -g * j_psp, "V", 1.5e-3, "delta")
        network.replace_input(target, PoissonInput(eta * nu_threshold, c_e, j_psp, "V", "delta"))
    return network


def song_abbott(n: int = 1000, name: str = "stdp") -> Network:
    """Song, Miller and Abbott (2000) as Brian2's STDP example: ``n`` Poisson inputs at 15 Hz onto one LIF
    neuron (tau_m 10 ms, rest -74 mV, threshold -54 mV, reset -60 mV) through plastic synapses whose
    conductance drives it at the fixed driving force Ee - v_reset = 60 mV (the example's ``ge * (Ee - vr)``):
    exp synapses of 5 ms, wmax 0.01 x 60 mV, weights uniform in [0, wmax) at first, additive STDP with
    apre 0.01 and apost -0.0105. The weights become bimodal, most near 0 or near wmax."""
    from neuroshell.neuron.plasticity import stdp

    network = Network(name)
    network.add_population("input", "poisson", n, {"rate_hz": 15.0})
    cell = {"tau_m": 10e-3, "e_l": -74e-3, "v_th": -54e-3, "v_reset": -60e-3, "t_ref": 0.0, "v_init": -60e-3}
    network.add_population("neuron", "lif", 1, cell)
    wmax = 0.01 * 60e-3
    plasticity = stdp(wmax, wmax, 20e-3, 20e-3, 0.01, -0.0105, "additive", "uniform")
    network.connect("input", "neuron", "all", wmax, "V", 0.0, "exp", 5e-3, None, plasticity)
    return network


EXAMPLES = {"cuba": cuba, "coba": coba, "brunel": brunel, "stdp": song_abbott}
