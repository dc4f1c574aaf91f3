"""A new neuroshell file filled by an import: streams appended block by block (with their overview, as a
recording builds it), gaps, clock offsets and markers, on a clock whose zero the source says."""

import re
from pathlib import Path

import numpy as np

from neuroshell.storage.layout import create_file, create_stream
from neuroshell.storage.markers import append_markers
from neuroshell.storage.overview import OverviewBuilder, append_overview
from neuroshell.storage.rows import append_rows
from neuroshell.storage.spec import StreamSpec


class ImportTarget:
    """``path`` created as a neuroshell file whose clock reads 0 at ``clock_zero_unix_s`` (Unix time, s)."""

    def __init__(self, path: Path, clock_zero_unix_s: float, source: Path, overwrite: bool) -> None:
        self.handle = create_file(path, clock=lambda: 0.0, overwrite=overwrite)
        # The file's zero is the source's, not this machine's clock at import time.
        self.handle.attrs["clock_zero_unix_s"] = float(clock_zero_unix_s)
        self.handle.attrs["imported_from"] = str(source)
        self.path = Path(path)

    def stream_name(self, wanted: str) -> str:
        """A valid, unused stream name close to ``wanted``."""
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", wanted).strip("_.") or "stream"
        name, number = base, 2
        while name in self.handle["streams"]:
            name, number = f"{base}_{number}", number + 1
        return name

    def add_stream(self, spec: StreamSpec, blocks, gaps=(), clock_offsets=None) -> int:
        """Write a stream from ``blocks`` of (data (n, n_channels) in ``spec.dtype``, times (n,) s); returns the
        number of samples. ``gaps``: (start_s, stop_s) pairs; ``clock_offsets`` (m, 2): local time, offset."""
        group = create_stream(self.handle, spec)
        overview = OverviewBuilder(spec.n_channels, spec.dtype)
        written = 0
        for data, times in blocks:
            if len(times):
                append_rows(group["data"], np.asarray(data, dtype=spec.dtype))
                append_rows(group["time"], np.asarray(times, dtype=np.float64))
                append_overview(group, overview.rows(data, times))
                written += len(times)
        if len(gaps):
            append_rows(group["gaps"], np.asarray(gaps, dtype=np.float64).reshape(-1, 2))
        if clock_offsets is not None and len(clock_offsets):
            append_rows(group["clock_offsets"], np.asarray(clock_offsets, dtype=np.float64).reshape(-1, 2))
        return written

    def add_markers(self, times, labels, sources) -> int:
        """Markers in time order (times s on this file's clock), labels and sources of any length."""
        order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
        return append_markers(
            self.handle["markers"],
            np.asarray(times, dtype=np.float64)[order],
            [labels[i] for i in order],
            [sources[i] for i in order],
        )

    def close(self) -> None:
        self.handle.close()
