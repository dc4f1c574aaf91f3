"""The min/max overview of a stream (``overview_min``, ``overview_max``, ``overview_time``), built as samples
are appended, whoever appends them (the recorder, an import)."""

import h5py
import numpy as np

from neuroshell.storage.layout import OVERVIEW_BLOCK
from neuroshell.storage.rows import append_rows


class OverviewBuilder:
    """Min/max rows for every complete block of OVERVIEW_BLOCK samples of one stream; samples of an
    incomplete block are carried over to the next ``add``."""

    def __init__(self, n_channels: int, dtype: str) -> None:
        self.carry_data = np.zeros((0, n_channels), dtype)
        self.carry_times = np.zeros(0)

    def rows(self, data: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(mins, maxs, start times) of the blocks completed by ``data`` (n, n_channels) at ``times`` (n,) s,
        or None when no block completes."""
        mins, maxs, starts = [], [], []
        if len(self.carry_times):  # complete the block begun in an earlier call (a small copy)
            need = OVERVIEW_BLOCK - len(self.carry_times)
            self.carry_data = np.concatenate([self.carry_data, data[:need]])
            self.carry_times = np.concatenate([self.carry_times, times[:need]])
            data, times = data[need:], times[need:]
            if len(self.carry_times) == OVERVIEW_BLOCK:
                mins.append(self.carry_data.min(axis=0, keepdims=True))
                maxs.append(self.carry_data.max(axis=0, keepdims=True))
                starts.append(self.carry_times[:1])
                self.carry_data, self.carry_times = self.carry_data[:0], self.carry_times[:0]
        blocks = len(times) // OVERVIEW_BLOCK
        if blocks:
            whole = data[: blocks * OVERVIEW_BLOCK].reshape(blocks, OVERVIEW_BLOCK, -1)  # a view, no copy
            mins.append(whole.min(axis=1))
            maxs.append(whole.max(axis=1))
            starts.append(times[: blocks * OVERVIEW_BLOCK : OVERVIEW_BLOCK])
        rest = blocks * OVERVIEW_BLOCK
        if len(times) > rest:
            self.carry_data = np.concatenate([self.carry_data, data[rest:]])
            self.carry_times = np.concatenate([self.carry_times, times[rest:]])
        if not mins:
            return None
        return np.concatenate(mins), np.concatenate(maxs), np.concatenate(starts)


def append_overview(group: h5py.Group, rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
    """Append ``OverviewBuilder.rows`` to a stream group's overview datasets."""
    if rows is not None:
        for name, values in zip(("overview_min", "overview_max", "overview_time"), rows, strict=True):
            append_rows(group[name], values)
