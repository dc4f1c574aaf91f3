"""The simulator against closed forms, Brian2, and its own description format."""

import json
import math

import h5py
import numpy as np
import pytest

from neuroshell.neuron.connectivity import build_csr
from neuroshell.neuron.description import CurrentInput, PoissonInput
from neuroshell.neuron.examples import brunel, cuba
from neuroshell.neuron.models import ModelError
from neuroshell.neuron.network import Network, NetworkError, parse_rule
from neuroshell.neuron.simulator import compile_network, simulate

DT = 1e-4


def single_lif(current_a: float, **params) -> Network:
    network = Network("one")
    network.add_population(
        "cell",
        "lif",
        1,
        {
            "tau_m": 20e-3,
            "c_m": 200e-12,
            "e_l": -70e-3,
            "v_th": -50e-3,
            "v_reset": -70e-3,
            "t_ref": 2e-3,
            "v_init": -70e-3,
            **params,
        },
    )
    network.replace_input("cell", CurrentInput(current_a))
    return network


def test_lif_fires_at_the_analytic_rate():
    current = 0.3e-9  # v_inf = -70 mV + 100 MOhm * 0.3 nA = -40 mV
    result = simulate(single_lif(current), 1.0, dt_s=DT)
    times, _ = result.spikes_of("cell")
    v_inf = -70e-3 + 20e-3 / 200e-12 * current
    isi = 2e-3 + 20e-3 * math.log((v_inf - -70e-3) / (v_inf - -50e-3))
    measured = np.diff(times)
    assert len(times) == pytest.approx(1.0 / isi, abs=1)
    assert np.all(np.abs(measured - isi) <= DT), (measured[:3], isi)
    assert abs(times[0] - (isi - 2e-3)) <= DT  # the first spike needs no refractory wait


def test_subthreshold_trace_is_the_closed_form():
    current = 0.1e-9  # v_inf = -60 mV: below threshold
    result = simulate(single_lif(current), 0.1, dt_s=DT, record=[("cell", 0)])
    t = (np.arange(result.state_v.shape[0]) + 1) * DT
    expected = -60e-3 + (-70e-3 - -60e-3) * np.exp(-t / 20e-3)
    np.testing.assert_allclose(result.state_v[:, 0], expected, atol=1e-12)
    assert len(result.spike_times_s) == 0


# A one-step delay goes straight into the synaptic state; a long one through the ring buffer.
@pytest.mark.parametrize("delay_s", [1e-3, 0.165])
def test_exponential_synapse_psp_is_exact_and_delayed(delay_s):
    network = Network("psp")
    network.add_population("src", "lif", 1, {"v_init": -49e-3, "v_th": -50e-3, "t_ref": 1.0})
    network.add_population("dst", "lif", 1, {"e_l": -70e-3, "v_init": -70e-3, "v_th": 0.0})
    network.connect("src", "dst", "one2one", 2e-3, "V", delay_s=delay_s, synapse="exp", tau_s=5e-3)
    result = simulate(network, delay_s + 0.05, dt_s=DT, record=[("dst", 0)])
    (spike,) = result.spikes_of("src")[0]
    assert spike == 0.0  # it starts above threshold: spikes in the first step
    trace = result.state_v[:, 0] + 70e-3
    onset = 1 + round(delay_s / DT)  # x jumps after the spike step, plus the delay
    assert np.all(trace[:onset] == 0) and trace[onset] > 0
    t = (np.arange(len(trace)) - onset + 1) * DT
    tau_m, tau_s = 20e-3, 5e-3
    expected = 2e-3 * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))
    # Synaptic state is float32 (the membrane float64): the PSP follows the closed form to 2 parts per million.
    np.testing.assert_allclose(trace[onset:], expected[onset:], rtol=2e-6, atol=1e-12)


def test_a_delta_synapse_makes_the_membrane_jump_by_its_weight_after_the_delay():
    network = Network("jump")
    network.add_population("src", "lif", 1, {"v_init": -49e-3, "v_th": -50e-3, "t_ref": 1.0})
    network.add_population("dst", "lif", 1, {"e_l": -70e-3, "v_init": -70e-3, "v_th": 0.0})
    network.connect("src", "dst", "one2one", 0.1e-3, "V", delay_s=1.5e-3, synapse="delta")
    result = simulate(network, 0.02, dt_s=DT, record=[("dst", 0)])
    trace = result.state_v[:, 0] + 70e-3
    onset = 1 + round(1.5e-3 / DT)  # the step the spike arrives in, as for exponential synapses
    assert np.all(trace[:onset] == 0)
    expected = 0.1e-3 * np.exp(-np.arange(len(trace) - onset) * DT / 20e-3)  # then it relaxes with tau_m
    np.testing.assert_allclose(trace[onset:], expected, rtol=1e-7)


def test_delta_synapses_are_refused_where_they_have_no_meaning():
    network = Network("bad")
    network.add_population("a", "adex", 2, {})
    network.add_population("b", "lif", 2, {})
    network.connect("b", "a", "all", 0.1e-3, "V", synapse="delta")
    with pytest.raises(NetworkError, match="a: delta synapses need a LIF population without cond synapses"):
        compile_network(network, dt_s=DT, seed=0)
    with pytest.raises(NetworkError, match=r"a delta synapse takes a weight in V, not S"):
        network.connect("b", "b", "all", 1e-9, "S", synapse="delta")


def test_every_spike_is_kept_when_a_chunk_overflows_the_spike_buffer():
    network = Network("storm")
    # A current far above threshold and no refractory period: every neuron fires at every step.
    network.add_population("cells", "lif", 2000, {"t_ref": 0.0, "v_init": -70e-3})
    network.replace_input("cells", CurrentInput(1e-6))
    result = simulate(network, 0.05, dt_s=DT)
    assert len(result.spike_index) == 2000 * 500  # 1 million: many times the kernel's spike buffer
    np.testing.assert_array_equal(np.bincount(result.spike_index), np.full(2000, 500))
    np.testing.assert_array_equal(np.unique(result.spike_times_s, return_counts=True)[1], np.full(500, 2000))
    assert np.all(np.diff(result.spike_times_s) >= 0)


def test_spikes_pending_when_a_chunk_ends_early_are_still_delivered(monkeypatch):
    # A step's spikes go through the projections at the start of the next step; a chunk that stops early
    # (its spike buffer full) or ends delivers them first. Chunks of one step each must give the same run.
    from neuroshell.neuron import simulator

    network = Network("storm")
    network.add_population("cells", "lif", 2000, {"t_ref": 0.0, "v_init": -70e-3})
    network.replace_input("cells", CurrentInput(1e-6))
    network.add_population("reader", "lif", 200, {"v_init_spread": 10e-3})
    network.connect("cells", "reader", "indegree=3", 0.3e-3, "V", synapse="delta")
    network.connect("cells", "reader", "indegree=2", 0.2e-3, "V", 2e-3, "delta")  # through the ring
    chunked = simulate(network, 0.02, dt_s=DT, seed=4)
    monkeypatch.setattr(simulator, "CHUNK_S", DT)
    stepwise = simulate(network, 0.02, dt_s=DT, seed=4)
    reader_spikes = chunked.spike_count("reader")
    assert 50 < reader_spikes < 200 * 200  # the reader fires from its inputs alone, but not at every step
    np.testing.assert_array_equal(chunked.spike_index, stepwise.spike_index)
    np.testing.assert_array_equal(chunked.spike_times_s, stepwise.spike_times_s)


def test_the_spike_scan_lists_exactly_the_flagged_neurons_of_its_range():
    from neuroshell.neuron.kernels.collect import flagged

    rng = np.random.default_rng(5)
    lo, hi = 64, 10_003  # a range ending inside a word: the flags past it are another part's
    flags = np.zeros(10_016, dtype=np.int8)
    chosen = rng.choice(10_016, 400, replace=False)
    flags[chosen] = 1
    flags[hi : hi + 5] = 1
    found = np.zeros(len(flags), dtype=np.int32)
    count = flagged(flags, lo, hi, found)
    expected = np.sort(chosen[(chosen >= lo) & (chosen < hi)])
    assert count == len(expected) > 300
    np.testing.assert_array_equal(found[lo : lo + count], expected)


def isi_cv(times: np.ndarray, ids: np.ndarray) -> float:
    cvs = []
    for neuron in np.unique(ids):
        isis = np.diff(np.sort(times[ids == neuron]))
        if len(isis) >= 3:
            cvs.append(isis.std() / isis.mean())
    return float(np.mean(cvs))


def compiled_connectivity(network: Network, seed: int) -> tuple[np.ndarray, dict]:
    """The initial membrane potentials (V) and each projection's (source, target) neuron pairs, global
    indices, as simulate builds them for ``seed``, so that Brian2 can run the very same network."""
    compiled = compile_network(network, dt_s=DT, seed=seed)
    pairs = {}
    for source, target, indptr, indices in compiled.connectivity:
        first_source, first_target = compiled.populations[source].start, compiled.populations[target].start
        sources = first_source + np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        previous = pairs.get(source, (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
        pairs[source] = (np.concatenate([previous[0], sources]), np.concatenate([previous[1], first_target + indices]))
    return compiled.arrays["v"], pairs


def brian2_cuba(duration_s: float, v_init: np.ndarray, pairs: dict):
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    taum, taue, taui = 20 * b2.ms, 5 * b2.ms, 10 * b2.ms  # noqa: F841 (named in the equations)
    vt, vr, el = -50 * b2.mV, -60 * b2.mV, -49 * b2.mV  # noqa: F841
    eqs = """dv/dt = (ge + gi - (v - el)) / taum : volt (unless refractory)
             dge/dt = -ge / taue : volt
             dgi/dt = -gi / taui : volt"""
    group = b2.NeuronGroup(4000, eqs, threshold="v > vt", reset="v = vr", refractory=5 * b2.ms, method="exact")
    group.v = v_init * b2.volt
    exc = b2.Synapses(group, group, on_pre="ge += 1.62*mV")
    inh = b2.Synapses(group, group, on_pre="gi += -9*mV")
    exc.connect(i=pairs["exc"][0], j=pairs["exc"][1])
    inh.connect(i=pairs["inh"][0], j=pairs["inh"][1])
    monitor = b2.SpikeMonitor(group)
    b2.run(duration_s * b2.second)
    return np.asarray(monitor.t), np.asarray(monitor.i)


def early_spikes(times: np.ndarray, ids: np.ndarray, until_s: float = 0.05) -> list[tuple[int, int]]:
    """(step, neuron) of the spikes before ``until_s``, sorted."""
    early = times < until_s
    return sorted(zip(np.round(times[early] / DT).astype(int).tolist(), ids[early].tolist(), strict=True))


def test_cuba_matches_the_published_regime_and_brian2():
    duration = 1.0
    network = cuba()
    result = simulate(network, duration, dt_s=DT, seed=3)
    ours_times, ours_ids = result.spike_times_s, result.spike_index
    ours_rate = len(ours_times) / (4000 * duration)
    ours_cv = isi_cv(ours_times, ours_ids)
    # Brian2 runs the same network: the same synapses and the same initial potentials.
    brian_times, brian_ids = brian2_cuba(duration, *compiled_connectivity(network, seed=3))
    brian_rate = len(brian_times) / (4000 * duration)
    brian_cv = isi_cv(brian_times, brian_ids)
    # Vogels & Abbott 2005: asynchronous irregular activity at a few Hz (here about 5-6 Hz, CV about 0.55,
    # as Brian2 gives on the same network).
    assert 3 < ours_rate < 12 and 0.35 < ours_cv < 1.0, (ours_rate, ours_cv)
    assert ours_rate == pytest.approx(brian_rate, rel=0.05), (ours_rate, brian_rate)
    assert ours_cv == pytest.approx(brian_cv, abs=0.05), (ours_cv, brian_cv)
    # Both integrate exactly, so the spike trains agree spike for spike until chaos amplifies rounding.
    ours_early, brian_early = early_spikes(ours_times, ours_ids), early_spikes(brian_times, brian_ids)
    assert len(ours_early) > 500 and ours_early == brian_early
    assert result.n_synapses == pytest.approx(4000 * 4000 * 0.02, rel=0.01)


def test_adex_adapts_and_izhikevich_spikes_regularly():
    network = Network("models")
    network.add_population("adex", "adex", 1, {})
    network.add_population("izh", "izh", 1, {})
    network.replace_input("adex", CurrentInput(1e-9))
    network.replace_input("izh", CurrentInput(10e-12))
    result = simulate(network, 1.0, dt_s=DT)
    adex_isi = np.diff(result.spikes_of("adex")[0])
    assert len(adex_isi) > 5 and adex_isi[-1] > 1.5 * adex_isi[0], "spike-frequency adaptation"
    izh_times = result.spikes_of("izh")[0]
    assert 5 < len(izh_times) < 40  # regular spiking with I = 10 (Izhikevich 2003, Fig. 2)
    assert np.diff(izh_times)[-1] > np.diff(izh_times)[0]


def test_poisson_input_shifts_the_mean_potential_as_expected():
    network = Network("poisson")
    network.add_population("cells", "lif", 2000, {"e_l": -70e-3, "v_init": -70e-3, "v_th": 1.0})
    network.replace_input("cells", PoissonInput(100.0, 4, 1e-3, "V", "exp", 5e-3))
    result = simulate(network, 0.3, dt_s=DT, seed=2, record=[("cells", i) for i in range(2000)])
    settled = result.state_v[1000:]  # after 100 ms
    shift = settled.mean() + 70e-3
    assert shift == pytest.approx(100.0 * 4 * 1e-3 * 5e-3, rel=0.05)  # rate x sources x weight x tau


def test_connection_rules_build_the_right_csr():
    indptr, indices = build_csr("p", 0.1, 500, 400, seed=1)
    assert len(indptr) == 501 and indptr[-1] == len(indices)
    assert abs(len(indices) - 20000) < 5 * math.sqrt(20000 * 0.9)
    rows = np.split(indices, indptr[1:-1])
    assert all(len(set(r)) == len(r) and np.all(np.diff(r) > 0) for r in rows)  # no duplicate pair
    again = build_csr("p", 0.1, 500, 400, seed=1)
    np.testing.assert_array_equal(again[1], indices)
    indptr, indices = build_csr("indegree", 30, 200, 50, seed=4)
    sources = np.repeat(np.arange(200), np.diff(indptr))
    for target in range(50):
        from_sources = sources[indices == target]
        assert len(from_sources) == 30 and len(set(from_sources)) == 30
    indptr, indices = build_csr("one2one", 0, 7, 7, seed=0)
    np.testing.assert_array_equal(indices, np.arange(7))
    indptr, indices = build_csr("all", 0, 3, 4, seed=0)
    assert len(indices) == 12 and np.all(np.diff(indptr) == 4)


def test_projections_are_drawn_into_one_shared_array_as_they_would_be_alone():
    network = brunel(500)  # in-degree rules, drawn in place; a p rule, drawn and then copied in
    network.add_population("extra", "lif", 40)
    network.connect("exc", "extra", "p=0.2", 0.1e-3, "V")
    compiled = compile_network(network, dt_s=1e-4, seed=3)
    order = [(p.source, p.target) for p in network.projections()]
    assert sum(len(view[3]) for view in compiled.connectivity) == len(compiled.arrays["indices"])
    for source, target, indptr, indices in compiled.connectivity:
        assert np.shares_memory(indices, compiled.arrays["indices"])
        rule = network.projection(source, target).rule
        sizes = compiled.populations[source].size, compiled.populations[target].size
        alone = build_csr(*parse_rule(rule), *sizes, seed=3 * 7919 + order.index((source, target)) + 1)
        np.testing.assert_array_equal(indptr, alone[0])
        np.testing.assert_array_equal(indices, alone[1])


def test_json_and_graphml_round_trip_exactly(tmp_path):
    network = cuba(4000)
    network.replace_input("exc", PoissonInput(12.5, 3, 1.0 / 3e3, "V", "exp", 5e-3))
    for name in ("net.json", "net.graphml"):
        network.save(tmp_path / name)
        loaded = Network.load(tmp_path / name)
        assert loaded.to_dict() == network.to_dict()
    assert json.loads((tmp_path / "net.json").read_text())["graph"]["name"] == "cuba"


def test_bad_descriptions_are_clear_errors():
    network = Network()
    with pytest.raises(ModelError, match="unknown neuron model 'hh'"):
        network.add_population("a", "hh", 10)
    with pytest.raises(NetworkError, match="needs at least one neuron"):
        network.add_population("a", "lif", -5)
    network.add_population("a", "lif", 10)
    with pytest.raises(NetworkError, match=r"no population 'b' \(populations: a\)"):
        network.connect("a", "b", "p=0.1", 1e-3, "V")
    with pytest.raises(NetworkError, match="takes a weight in S, not V"):
        network.connect("a", "a", "p=0.1", 1e-3, "V", synapse="cond")
    with pytest.raises(NetworkError, match="unknown connection rule 'sometimes'"):
        network.connect("a", "a", "sometimes", 1e-3, "V")
    with pytest.raises(ModelError, match="lif has no parameter 'gain'"):
        network.add_population("c", "lif", 3, {"gain": 2.0})


def test_interrupting_keeps_what_was_simulated():
    calls = []

    def progress(simulated_s):
        calls.append(simulated_s)
        if len(calls) == 3:
            raise KeyboardInterrupt

    result = simulate(cuba(), 1.0, dt_s=DT, seed=1, progress=progress)
    assert not result.completed
    assert result.duration_s == pytest.approx(calls[-1])
    assert result.spike_times_s.max() < result.duration_s


def test_results_are_written_in_sonata_layout(tmp_path):
    import time

    from neuroshell.storage.simulations import create_and_write

    result = simulate(cuba(), 0.1, dt_s=DT, seed=1, record=[("exc", 0), ("inh", 2)])
    create_and_write(tmp_path / "sim.h5", "cuba", result, time.monotonic)
    with h5py.File(tmp_path / "sim.h5") as f:
        run = f["simulations/cuba"]
        spikes = run["spikes/exc"]
        assert spikes.attrs["sorting"] == "by_time" and spikes["timestamps"].attrs["units"] == "ms"
        times, ids = result.spikes_of("exc")
        np.testing.assert_allclose(spikes["timestamps"][:], times * 1e3)
        np.testing.assert_array_equal(spikes["node_ids"][:], ids)
        assert np.all(np.diff(spikes["timestamps"][:]) >= 0)
        assert run["state/v"].shape == (1000, 2) and run["state/v"].attrs["units"] == "V"
        assert json.loads(run.attrs["network"])["graph"]["name"] == "cuba"
        assert run["rates/exc"].shape == (100,)
        assert run["rates/exc"][:].mean() == pytest.approx(result.mean_rate_hz("exc"), rel=1e-9)
        # Every spike lands in exactly one population's group, as that population's local index.
        for population, (start, size) in result.populations.items():
            own = (result.spike_index >= start) & (result.spike_index < start + size)
            group = run[f"spikes/{population}"]
            np.testing.assert_array_equal(group["node_ids"][:], result.spike_index[own] - start)
            np.testing.assert_allclose(group["timestamps"][:], result.spike_times_s[own] * 1e3)
            assert result.spike_count(population) == own.sum() > 0


def test_a_static_synapse_costs_its_int32_index_and_a_share_of_its_row_start():
    compiled = compile_network(cuba(4000), dt_s=DT, seed=1)
    rows = sum(len(indptr) for _, _, indptr, _ in compiled.connectivity)  # n_source + 1 per projection
    assert compiled.synapse_bytes == 4 * compiled.n_synapses + 8 * rows
    assert compiled.synapse_bytes / compiled.n_synapses < 4.25  # target: at most 8 (index and float32 weight)


def test_the_description_is_frozen_types_and_a_saved_network_still_loads():
    import dataclasses

    saved = {  # as an earlier version saved it: inputs without their defaults, edges with every attribute
        "directed": True, "multigraph": False, "graph": {"name": "old"},
        "nodes": [{"id": "cells", "model": "lif", "n": 10, "params": {"tau_m": 0.02}, "inputs": [
            {"kind": "poisson", "rate_hz": 5.0, "n_sources": 2, "weight": 1e-4, "weight_unit": "V", "synapse": "delta"},
            {"kind": "current", "amplitude_a": 1e-10}]}],
        "edges": [{"source": "cells", "target": "cells", "rule": "p=0.1", "weight": 1e-4, "weight_unit": "V",
                   "delay_s": 0.001, "synapse": "delta", "tau_s": 0.005, "e_rev": None, "plasticity": None}],
    }  # fmt: skip
    network = Network.from_dict(saved)
    cells = network.population("cells")
    assert cells.inputs == (PoissonInput(5.0, 2, 1e-4, "V", "delta"), CurrentInput(1e-10))
    assert network.projection("cells", "cells").delay_s == 0.001 and cells.params["tau_m"] == 0.02
    with pytest.raises(dataclasses.FrozenInstanceError):
        cells.n = 20
    with pytest.raises(TypeError):
        cells.params["tau_m"] = 1.0  # the parameters too: a change goes through the network
    network.replace_population("cells", n=20)
    assert network.population("cells").n == 20 and cells.n == 10
    assert Network.from_json(network.to_json()).to_dict() == network.to_dict()
    with pytest.raises(NetworkError, match="unknown input kind 'laser'"):
        Network.from_dict({**saved, "nodes": [{**saved["nodes"][0], "inputs": [{"kind": "laser"}]}]})
    # Each projection's seed follows this order (as networkx's adjacency gave it): the same seed draws the
    # same synapses as before the description became types.
    assert [p.name for p in cuba(400).projections()] == ["exc->exc", "exc->inh", "inh->exc", "inh->inh"]
