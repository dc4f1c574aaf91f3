"""Simulation results in HDF5: ``/simulations/<run>`` with SONATA-style spike groups (docs/file-format.md)."""

from pathlib import Path

import h5py
import numpy as np

from neuroshell.storage.errors import StorageError


def write_simulation(handle: h5py.File, run: str, result, overwrite_run: bool = False) -> str:
    """Write a ``neuron.simulator.SimulationResult`` into ``/simulations/<run>`` of an open, writable
    neuroshell file. Returns the run's group path."""
    simulations = handle.require_group("simulations")
    if run in simulations:
        if not overwrite_run:
            raise StorageError(f"{handle.filename} already holds a run '{run}': choose another --run name")
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
    return group.name


def create_and_write(path: Path, run: str, result, clock) -> str:
    """Write a run into a new or existing neuroshell file at ``path`` (for library use and benchmarks)."""
    from neuroshell.storage.files import open_for_writing

    with open_for_writing(path, clock) as handle:
        return write_simulation(handle, run, result)


def next_run_name(path: Path) -> str:
    """``run1``, ``run2``, ...: the first name not yet in the file."""
    path = Path(path)
    taken: set[str] = set()
    if path.exists():
        with h5py.File(path, "r") as handle:
            taken = set(handle.get("simulations", {}))
    number = 1
    while f"run{number}" in taken:
        number += 1
    return f"run{number}"
