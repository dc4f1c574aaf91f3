"""Simulation results in HDF5: ``/simulations/<run>`` with SONATA-style spike groups (docs/file-format.md)."""

from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from neuroshell.storage.errors import StorageError


def write_simulation(handle: h5py.File, run: str, result, overwrite_run: bool = False) -> str:
    """Write a ``neuron.simulator.SimulationResult`` into ``/simulations/<run>`` of an open, writable
    neuroshell file. Returns the run's group path."""
    simulations = handle.require_group("simulations")
    if run in simulations:
        if not overwrite_run:
            raise StorageError(
                f"{handle.filename} already holds a run '{run}': choose another --run, or add --overwrite"
            )
        del simulations[run]
    group = simulations.create_group(run)
    group.attrs["network"] = result.network_json
    group.attrs["dt_s"] = result.dt_s
    group.attrs["duration_s"] = result.duration_s
    group.attrs["seed"] = result.seed
    group.attrs["completed"] = result.completed
    group.attrs["wall_s"] = result.wall_s
    for population, (_, size) in result.populations.items():
        times, ids = result.spikes_of(population)
        spikes = group.create_group(f"spikes/{population}")
        spikes.attrs["sorting"] = "by_time"
        spikes.attrs["n_neurons"] = size
        stamps = spikes.create_dataset("timestamps", data=times * 1e3, dtype="f8")
        stamps.attrs["units"] = "ms"
        spikes.create_dataset("node_ids", data=ids.view(np.uint64))  # indices are never negative
        _, rates = result.rate_hz(population, 1e-3)
        rate = group.create_dataset(f"rates/{population}", data=rates)
        rate.attrs["units"] = "Hz"
        rate.attrs["bin_s"] = 1e-3
    if result.state_v.shape[1]:
        trace = group.create_dataset("state/v", data=result.state_v)
        trace.attrs["units"] = "V"
        trace.attrs["dt_s"] = result.dt_s
        trace.attrs["neuron_index"] = result.recorded_index
    for projection, history in result.weights.items():
        _write_weights(group, projection, history)
    return group.name


def create_and_write(path: Path, run: str, result, clock) -> str:
    """Write a run into a new or existing neuroshell file at ``path`` (for library use and benchmarks)."""
    from neuroshell.storage.files import open_for_writing

    with open_for_writing(path, clock) as handle:
        return write_simulation(handle, run, result)


def run_names(file) -> set[str]:
    """The runs an open neuroshell file (``H5File`` or h5py) holds."""
    return set(getattr(file, "handle", file).get("simulations", {}))


def next_run_name(file) -> str:
    """``run1``, ``run2``, ...: the first name not yet in the open file."""
    taken = run_names(file)
    number = 1
    while f"run{number}" in taken:
        number += 1
    return f"run{number}"


def run_group(file, run_path: str) -> h5py.Group:
    """The group of a run (``/simulations/<run>``) of an open neuroshell file (``H5File`` or h5py)."""
    handle = getattr(file, "handle", file)
    if run_path not in handle:
        runs = ", ".join(handle.get("simulations", {})) or "none"
        raise StorageError(f"{handle.filename}:{run_path} is not a simulation run (runs: {runs})")
    return handle[run_path]


class StoredSpikes(NamedTuple):
    """A population's spikes in a run: ``times_s`` (n,) float64, ``node_ids`` (n,) int64 within the population,
    and its size ``n_neurons``."""

    times_s: np.ndarray
    node_ids: np.ndarray
    n_neurons: int


class StoredRates(NamedTuple):
    """A population's rate: ``rate_hz`` per bin of ``bin_s`` seconds."""

    rate_hz: np.ndarray
    bin_s: float


class StoredWeights(NamedTuple):
    """A plastic projection's weights: snapshot ``times_s``, ``weights`` (n_snapshots, n_synapses), ``wmax``
    and ``unit``."""

    times_s: np.ndarray
    weights: np.ndarray
    wmax: float
    unit: str


def read_spikes(file, run_path: str) -> dict[str, StoredSpikes]:
    """Per population, its spikes. The file keeps SONATA's milliseconds; this is where they become seconds."""
    spikes = run_group(file, run_path)["spikes"]
    return {
        name: StoredSpikes(
            group["timestamps"][:] / 1e3, group["node_ids"][:].astype(np.int64), int(group.attrs["n_neurons"])
        )
        for name, group in spikes.items()
    }


def read_rates(file, run_path: str) -> dict[str, StoredRates]:
    """Per population, its rate; an empty dict if none were kept."""
    group = run_group(file, run_path)
    return {name: StoredRates(data[:], float(data.attrs["bin_s"])) for name, data in group.get("rates", {}).items()}


def _write_weights(group: h5py.Group, projection: str, history) -> None:
    """A plastic projection's weight snapshots (``neuron.records.WeightHistory``): ``weights/SRC->DST/weights``
    (n_snapshots, n_synapses), float32 in the projection's weight unit, synapses in the order of its CSR rows;
    ``time`` in s."""
    kept = group.create_group(f"weights/{projection}")
    data = kept.create_dataset("weights", data=history.weights, chunks=(1, max(1, history.weights.shape[1])))
    data.attrs["units"] = history.unit
    data.attrs["wmax"] = history.wmax
    kept.create_dataset("time", data=history.times_s).attrs["units"] = "s"


def read_weights(file, run_path: str) -> dict[str, StoredWeights]:
    """Per plastic projection, its weight snapshots."""
    group = run_group(file, run_path)
    return {
        name: StoredWeights(
            kept["time"][:],
            kept["weights"][:],
            float(kept["weights"].attrs["wmax"]),
            str(kept["weights"].attrs["units"]),
        )
        for name, kept in group.get("weights", {}).items()
    }
