"""STDP: one pre/post pair at known times changes the weight by the analytic window (additive and
multiplicative, both signs, with a delay); the Song, Miller and Abbott (2000) network turns bimodal."""

import json
import math

import h5py
import numpy as np
import pytest

from neuroshell.neuron.description import CurrentInput
from neuroshell.neuron.network import Network
from neuroshell.neuron.plasticity import PlasticityError, stdp
from neuroshell.neuron.simulator import simulate

DT = 1e-4
WMAX, W0 = 1e-9, 0.5e-9  # S: far too weak to make the target fire
TAUPRE, TAUPOST, APRE, APOST = 20e-3, 30e-3, 0.01, -0.012


def pair(pre_s: float, post_s: float, rule: str, delay_s: float = 0.0) -> float:
    """The weight after one presynaptic spike at ``pre_s`` and one postsynaptic spike at ``post_s``, each
    forced by a strong current step (one spike each: a long refractory period)."""
    network = Network("pair")
    cell = {"e_l": -70e-3, "v_init": -70e-3, "v_th": -50e-3, "t_ref": 1.0}
    network.add_population("pre", "lif", 1, cell)
    network.add_population("post", "lif", 1, cell)
    for name, when in (("pre", pre_s), ("post", post_s)):
        network.replace_input(name, CurrentInput(1e-6, when, when + DT))
    plasticity = stdp(W0, WMAX, TAUPRE, TAUPOST, APRE, APOST, rule)
    network.connect("pre", "post", "all", W0, "S", delay_s, "cond", 5e-3, 0.0, plasticity)
    result = simulate(network, max(pre_s, post_s) + delay_s + 0.01, dt_s=DT)
    assert result.spikes_of("pre")[0] == pytest.approx([pre_s]) and result.spikes_of("post")[0] == pytest.approx(
        [post_s]
    )
    return float(result.learned["pre->post"][0])


@pytest.mark.parametrize("rule", ["additive", "multiplicative"])
@pytest.mark.parametrize("delay_s", [0.0, 3e-3])
@pytest.mark.parametrize("lag_s", [12e-3, -7e-3])
def test_one_pair_changes_the_weight_by_the_stdp_window(rule, delay_s, lag_s):
    pre_s = 0.02
    arrival_s = pre_s + delay_s + DT  # the spike counts at the step it arrives in (at least one step on)
    post_s = round((arrival_s + lag_s) / DT) * DT
    change = pair(pre_s, post_s, rule, delay_s) - W0
    lag = post_s - arrival_s
    if lag >= 0:  # pre before post: potentiation
        expected = (WMAX - W0 if rule == "multiplicative" else WMAX) * APRE * math.exp(-lag / TAUPRE)
    else:
        expected = (W0 if rule == "multiplicative" else WMAX) * APOST * math.exp(lag / TAUPOST)
    assert change == pytest.approx(expected, rel=1e-5), (change, expected)


def test_weights_stay_within_zero_and_wmax_and_bad_descriptions_are_refused():
    assert pair(0.02, 0.0201, "additive") <= WMAX
    with pytest.raises(PlasticityError, match=r"within \[0, wmax\]"):
        stdp(2e-9, WMAX)
    with pytest.raises(PlasticityError, match="unknown STDP rule 'hebbian'"):
        stdp(W0, WMAX, rule="hebbian")


def test_the_song_abbott_network_turns_bimodal_and_the_prompt_keeps_and_draws_its_weights(session, tmp_path):
    path = tmp_path / "stdp.h5"
    session.execute(f"set plot.dir {tmp_path / 'plots'}")
    assert session.execute("net example stdp")
    assert session.execute(f"simulate 100s --record spikes,rate,weights --every 10s --to {path} --seed 3")
    assert (
        session.ui.lines[-2]
        == "learned weights of input->neuron stay with the network (the next simulate goes on from them)"
    )
    learned = np.array(session.network.projection("input", "neuron").plasticity.learned.weights) / 0.6e-3
    low, high = np.mean(learned < 0.1), np.mean(learned > 0.9)
    # Song, Miller and Abbott (2000), Fig. 1: competition drives the weights to the bounds, most to 0 (Brian2's
    # example, 100 s: 28% below 0.1 wmax, 18% above 0.9; at first, uniform: 10% each, 20% in the middle fifth).
    middle = np.mean((learned > 0.4) & (learned < 0.6))
    assert low > 0.2 and high > 0.13 and middle < 0.14, (low, high, middle)
    with h5py.File(path) as f:
        snapshots = f["simulations/run1/weights/input->neuron/weights"]
        assert snapshots.shape == (11, 1000) and snapshots.dtype == np.float32
        assert np.array_equal(snapshots[-1], (learned * 0.6e-3).astype(np.float32))
        assert list(f["simulations/run1/weights/input->neuron/time"][:]) == pytest.approx(np.arange(0, 101, 10))
    assert session.execute(f"plot weights {path}:/simulations/run1")
    assert (tmp_path / "plots" / "weights-stdp-run1.png").stat().st_size > 10_000
    assert session.execute(f"net save {tmp_path / 'learnt.json'}")
    saved = json.loads((tmp_path / "learnt.json").read_text())
    kept = next(e for e in saved["edges"] if e["source"] == "input")["plasticity"]["learned"]
    assert kept["seed"] == 3 and np.array_equal(np.array(kept["weights"]) / 0.6e-3, learned)
    assert not session.execute("simulate 1s --seed 4")
    assert "its learned weights belong to the connectivity of seed 3" in session.ui.errors[-1]


def test_a_plastic_synapse_costs_at_most_16_bytes():
    from neuroshell.neuron.simulator import compile_network

    network = Network("bytes")
    network.add_population("a", "lif", 4000, {})
    network.connect("a", "a", "indegree=80", 0.1e-3, "V", plasticity=stdp(0.1e-3, 0.2e-3))
    compiled = compile_network(network, dt_s=DT, seed=0)
    assert compiled.synapse_bytes / compiled.n_synapses < 16.25  # index, weight, incoming view; row starts


def test_poisson_sources_fire_at_their_rate_with_poisson_counts():
    network = Network("sources")
    network.add_population("input", "poisson", 2000, {"rate_hz": 20.0})
    result = simulate(network, 1.0, dt_s=DT, seed=5)
    times, ids = result.spikes_of("input")
    assert abs(len(times) - 40_000) < 4 * 200  # 2000 x 20 Hz x 1 s, sd about sqrt(40000)
    counts = np.bincount(ids, minlength=2000)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.1)  # Poisson: variance equals mean
    assert len(np.unique(np.round(np.diff(np.sort(times[ids == 0])) / DT))) > 5  # irregular intervals


def test_every_source_of_several_poisson_populations_keeps_firing_in_index_order():
    # Sizes off the 64-source blocks, a LIF population between them: each population's blocks are its own.
    network = Network("sources")
    network.add_population("a", "poisson", 100, {"rate_hz": 50.0})
    network.add_population("cells", "lif", 10)
    network.add_population("b", "poisson", 70, {"rate_hz": 50.0})
    result = simulate(network, 1.0, dt_s=DT, seed=2)
    for name, n in (("a", 100), ("b", 70)):
        times, ids = result.spikes_of(name)
        counts = np.bincount(ids, minlength=n)
        assert counts.min() > 15  # no source or block ever left behind: 50 per source, P(<= 15) ~ 1e-8
        assert abs(len(times) - 50 * n) < 4 * math.sqrt(50 * n)
    steps, index = result.spike_times_s / DT, result.spike_index
    same_step = np.round(steps[1:]) == np.round(steps[:-1])
    assert np.all(index[1:][same_step] > index[:-1][same_step])
