"""Sweeps in HDF5: ``/sweeps/NAME`` holds the points (values, seed, state, wall time, error), a summary
dataset per measure, and optionally each point's spikes in the SONATA layout. Written point by point as
results arrive, so an interrupted sweep keeps what finished and the same sweep resumes from it."""

import json

import h5py
import numpy as np

from neuroshell.sweeps.grid import Point, SweepError

STATE_DTYPE = h5py.string_dtype("utf-8", 8)
ERROR_BYTES = 300
ERROR_DTYPE = h5py.string_dtype("utf-8", ERROR_BYTES)
PENDING, DONE, FAILED = b"pending", b"done", b"failed"


class SweepStore:
    """The group of one sweep in an open, writable file; created, or reopened when ``recipe`` matches."""

    def __init__(self, handle: h5py.File, name: str, recipe: dict, points: list[Point], overwrite: bool) -> None:
        sweeps = handle.require_group("sweeps")
        text = json.dumps(recipe, sort_keys=True)
        if name in sweeps and (overwrite or sweeps[name].attrs.get("recipe") != text):
            if not overwrite:
                where = f"{handle.filename}:/sweeps/{name}"
                raise SweepError(f"{where} holds a different sweep: choose another --name, or add --overwrite")
            del sweeps[name]
        self.handle = handle
        self.resumed = name in sweeps
        self.group = sweeps[name] if self.resumed else self._create(sweeps, name, text, recipe, points)

    @staticmethod
    def _create(sweeps: h5py.Group, name: str, text: str, recipe: dict, points: list[Point]) -> h5py.Group:
        group = sweeps.create_group(name)
        group.attrs["recipe"] = text
        group.attrs["kind"] = recipe["kind"]
        n = len(points)
        # A column of words (an encoding, a model) holds each word's index into its choices.
        choices = [list(axis) if any(isinstance(v, str) for v in axis) else None for _, axis in recipe["axes"]]
        table = [[c.index(v) if c else v for v, c in zip(p.values, choices, strict=True)] for p in points]
        values = group.create_dataset("points/values", data=np.array(table, dtype=np.float64).reshape(n, -1))
        values.attrs["columns"] = [name for name, _ in recipe["axes"]]
        values.attrs["units"] = recipe["units"]
        values.attrs["choices"] = json.dumps(choices)
        group.create_dataset("points/seed", data=np.array([p.seed for p in points], dtype=np.int64))
        group.create_dataset("points/state", data=np.full(n, PENDING, dtype=STATE_DTYPE))
        group.create_dataset("points/wall_s", data=np.full(n, np.nan))
        group.create_dataset("points/error", data=np.full(n, b"", dtype=ERROR_DTYPE))
        group.create_group("summary")
        return group

    @staticmethod
    def complete(handle: h5py.File, name: str, recipe: dict) -> bool:
        """Whether the file already holds this very sweep with every point finished (nothing to run)."""
        group = handle.get(f"sweeps/{name}")
        if group is None or group.attrs.get("recipe") != json.dumps(recipe, sort_keys=True):
            return False
        return bool((group["points/state"][:] != PENDING).all())

    def done(self) -> set[int]:
        """Indices of the points already finished (done or failed)."""
        states = self.group["points/state"][:]
        return {int(i) for i in np.flatnonzero(states != PENDING)}

    def write(self, index: int, result: dict | None, error: str | None) -> None:
        """Store one point's result (or its error) and flush, so it survives a crash. The state is written
        last: a point cut short by Ctrl-C stays pending and runs again on resume."""
        points = self.group["points"]
        if error is not None:
            points["error"][index] = error.encode("utf-8")[:ERROR_BYTES]
            points["state"][index] = FAILED
            self.handle.flush()
            return
        points["wall_s"][index] = result["wall_s"]
        summary = self.group["summary"]
        for measure, value in result["summary"].items():
            if measure not in summary:
                summary.create_dataset(measure, data=np.full(len(points["state"]), np.nan))
            summary[measure][index] = value
        if result.get("spikes"):
            self._write_spikes(index, result["spikes"])
        points["state"][index] = DONE
        self.handle.flush()

    def _write_spikes(self, index: int, spikes: dict) -> None:
        where = f"spikes/point{index}"
        if where in self.group:  # left by a run cut short before its state was written
            del self.group[where]
        for population, (times_s, ids, size) in spikes.items():
            group = self.group.create_group(f"{where}/{population}")
            group.attrs["sorting"] = "by_time"
            group.attrs["n_neurons"] = size
            stamps = group.create_dataset("timestamps", data=times_s * 1e3)
            stamps.attrs["units"] = "ms"
            group.create_dataset("node_ids", data=ids.astype(np.uint64))


def read_sweep(file, path: str) -> dict:
    """A sweep's table as plain arrays: ``columns`` (names), ``units``, ``choices`` (per column, the words a
    column of words indexes, else None), ``values`` (n, k) SI or indices, ``seed``,
    ``state`` (str), ``wall_s``, ``error`` (str) and ``summary`` {measure: (n,) array}."""
    handle = getattr(file, "handle", file)  # a storage.files.H5File, or h5py's
    if path not in handle or "points" not in handle[path]:
        known = ", ".join(handle.get("sweeps", {})) or "none"
        raise SweepError(f"{handle.filename}:{path} is not a sweep (sweeps: {known})")
    group = handle[path]
    values = group["points/values"]
    return {
        "kind": str(group.attrs["kind"]),
        "columns": [str(c) for c in values.attrs["columns"]],
        "units": [str(u) for u in values.attrs["units"]],
        "choices": json.loads(values.attrs["choices"]),
        "values": values[:],
        "seed": group["points/seed"][:],
        "state": [s.decode() for s in group["points/state"][:]],
        "wall_s": group["points/wall_s"][:],
        "error": [e.decode() for e in group["points/error"][:]],
        "summary": {name: data[:] for name, data in group["summary"].items()},
    }
