"""A simulation run's spikes out to a SONATA spike file (the SONATA spec's HDF5 layout written with h5py;
libsonata, the reference reader, reads it back)."""

from pathlib import Path

import h5py
import numpy as np

from neuroshell.formats.catalog import FormatError
from neuroshell.storage.simulations import read_spikes


def export_sonata(file, run_path: str, target: Path, overwrite: bool) -> dict[str, int]:
    """Write the spikes of ``run_path`` (``/simulations/<run>``) of an open neuroshell file to ``target``:
    ``/spikes/<population>/timestamps`` (float64, ms) and ``node_ids`` (uint64), sorted by time, with the
    root attributes SONATA asks for. Returns the spike count per population."""
    if target.exists() and not overwrite:
        raise FormatError(f"{target} exists: choose another name or add --overwrite")
    counts = {}
    with h5py.File(target, "w") as out:
        out.attrs["magic"] = np.uint32(0x0A7A)
        out.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        for population, (times_s, ids, _) in read_spikes(file, run_path).items():
            order = np.lexsort((ids, times_s))
            group = out.create_group(f"spikes/{population}")
            group.attrs.create("sorting", 2, dtype=h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, "u1"))
            stamps = group.create_dataset("timestamps", data=times_s[order] * 1e3)
            stamps.attrs["units"] = "ms"
            group.create_dataset("node_ids", data=ids[order].astype(np.uint64))
            counts[population] = len(order)
    return counts
