"""The Recorder: blocks of samples from any producer thread, appended to an HDF5 file by one writer thread.

A bounded queue sits between producers (device readers) and the writer, so a slow disk never blocks a
device. A full queue drops the block, counts it and writes a gap for it: never silent. The file is in
SWMR mode, so other processes can read it while it grows, and it is flushed at least every
``flush_interval_s``: a SIGKILL loses at most the data since the last flush.

While it records, the file is claimed (``locks.RecordingLock``) so that no other neuroshell writes it. When
the disk (or the process's file-size limit) leaves less room than ``min_free_bytes``, the recording stops
cleanly by itself and says why through ``on_stop``; a write that fails all the same stops it too, leaving
everything flushed before readable.
"""

import contextvars
import queue
import resource
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

from neuroshell.storage.errors import StorageError
from neuroshell.storage.layout import (
    CHAIN_BYTES,
    CHAIN_DTYPE,
    NO_FILTERS,
    StreamSpec,
    create_file,
    create_stream,
)
from neuroshell.storage.locks import RecordingLock
from neuroshell.storage.markers import append_markers, sort_markers
from neuroshell.storage.overview import OverviewBuilder, append_overview
from neuroshell.storage.records import Block, ClockOffset, FilterChange, MarkerItem
from neuroshell.storage.rows import append_rows

BATCH_BYTES = 8 << 20  # the writer gathers queued blocks into writes of up to this size
CLOSING_ROOM_BYTES = 1 << 20  # room kept for HDF5's metadata when the file is closed
_STOP = object()


@dataclass
class StreamCounts:
    samples_written: int = 0
    samples_flushed: int = 0  # on disk for certain: survives a crash
    samples_dropped: int = 0
    blocks_dropped: int = 0
    gaps_written: int = 0
    first_time: float | None = None
    last_time: float | None = None


@dataclass
class RecorderStats:
    path: Path
    streams: dict[str, StreamCounts]
    markers_written: int
    queue_fill: float  # fraction of the queue in use, 0..1
    queue_peak: float
    bytes_written: int
    flushes: int
    error: str | None = None
    running: bool = True


class Recorder:
    """Record streams and markers into one neuroshell HDF5 file, written in SWMR mode."""

    def __init__(
        self,
        path: Path,
        streams: list[StreamSpec],
        clock,
        *,
        flush_interval_s: float = 1.0,
        queue_blocks: int = 4096,
        overwrite: bool = False,
        compression: str | None = None,
        min_free_bytes: float = 0.0,
        on_stop: Callable[[str], None] | None = None,
        filter_chains: dict[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.min_free_bytes = min_free_bytes
        self.on_stop = on_stop
        self.specs = {spec.name: spec for spec in streams}
        self.lock = RecordingLock(self.path)
        try:
            self.handle = create_file(self.path, clock, overwrite=overwrite, claimed=True)
        except BaseException:
            self.lock.release()
            raise
        for spec in streams:
            group = create_stream(self.handle, spec, compression)
            chain = (filter_chains or {}).get(spec.name, NO_FILTERS)
            group.attrs["filter_chain"] = chain  # at the start; later changes are rows of filters/
            append_rows(group["filters/time"], np.array([clock()]))
            append_rows(group["filters/chain"], np.array([chain.encode("utf-8")], dtype=CHAIN_DTYPE))
        # The layout reaches the disk before the first sample, so even an early crash leaves a readable file.
        self.handle.flush()
        self.handle.swmr_mode = True
        self.handle.flush()
        self.queue: queue.Queue = queue.Queue(maxsize=queue_blocks)
        self.counts = {name: StreamCounts() for name in self.specs}
        self._overviews = {name: OverviewBuilder(s.n_channels, s.dtype) for name, s in self.specs.items()}
        self.markers_written = 0
        self.bytes_written = 0
        self.flushes = 0
        self.queue_peak = 0.0
        self.error: str | None = None
        self._side_lock = threading.Lock()
        self._pending_gaps: list[tuple[str, float, float]] = []
        self._stopped = False
        self._writer = threading.Thread(
            target=contextvars.copy_context().run,  # logs stay tagged as the caller's (e.g. its session)
            args=(self._write_loop,),
            name=f"recorder:{self.path.name}",
            daemon=True,
        )
        self._writer.start()

    # Producer side: called from device threads; never blocks.
    def put(self, stream: str, data: np.ndarray, times: np.ndarray) -> bool:
        """Queue a block ``data`` (n_samples, n_channels) with ``times`` (n_samples,) in session-clock seconds.

        Returns False when the block was dropped (queue full or writer failed); the drop is counted and
        written as a gap.
        """
        spec = self.specs.get(stream)
        if spec is None:
            raise KeyError(f"stream '{stream}' is not part of this recording")
        if data.ndim != 2 or data.shape[1] != spec.n_channels or data.shape[0] != times.shape[0]:
            raise ValueError(
                f"{stream}: block of shape {data.shape} with {times.shape[0]} times does not fit "
                f"{spec.n_channels} channels"
            )
        if data.shape[0] == 0:
            return True
        data = _in_stream_dtype(stream, data, spec.dtype)
        if not self._stopped and self.error is None:
            try:
                self.queue.put_nowait(Block(stream, data, times))
                return True
            except queue.Full:
                if self.counts[stream].blocks_dropped == 0:
                    logger.warning("recorder queue full: dropping blocks of {} (written as gaps)", stream)
        self._drop(stream, times)
        return False

    def mark(self, time_s: float, label: str, source: str = "user") -> None:
        """Queue a marker at ``time_s`` (session clock)."""
        self._put_side(MarkerItem(float(time_s), label, source))

    def gap(self, stream: str, start_s: float, stop_s: float) -> None:
        """Record that ``stream`` has no data between ``start_s`` and ``stop_s`` (device lost, frames dropped)."""
        with self._side_lock:
            self._pending_gaps.append((stream, float(start_s), float(stop_s)))

    def clock_offset(self, stream: str, local_time_s: float, offset_s: float) -> None:
        """Keep a raw LSL clock-offset measurement for later re-synchronisation."""
        self._put_side(ClockOffset(stream, float(local_time_s), float(offset_s)))

    def filter_changed(self, stream: str, time_s: float, chain_json: str) -> None:
        """Note that the online filter chain of ``stream`` became ``chain_json`` at ``time_s``."""
        if len(chain_json.encode("utf-8")) > CHAIN_BYTES:
            raise StorageError(f"a filter chain's description holds at most {CHAIN_BYTES} bytes")
        self._put_side(FilterChange(stream, float(time_s), chain_json))

    def _put_side(self, item: MarkerItem | ClockOffset | FilterChange) -> None:
        if self._stopped or self.error is not None:
            raise StorageError(f"the recording to {self.path} has stopped")
        # Markers and offsets are few and precious: wait for room rather than drop them.
        self.queue.put(item, timeout=10.0)

    def _drop(self, stream: str, times: np.ndarray) -> None:
        counts = self.counts[stream]
        counts.samples_dropped += int(times.shape[0])
        counts.blocks_dropped += 1
        self.gap(stream, float(times[0]), float(times[-1]))

    # Writer side.
    def _write_loop(self) -> None:
        next_flush = time.monotonic() + self.flush_interval_s
        stopping = False
        while not stopping:
            timeout = max(0.0, next_flush - time.monotonic())
            try:
                items = [self.queue.get(timeout=timeout)]
            except queue.Empty:
                items = []
            size = sum(_item_bytes(i) for i in items)
            while size < BATCH_BYTES:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                items.append(item)
                size += _item_bytes(item)
            self.queue_peak = max(self.queue_peak, self.queue.qsize() / self.queue.maxsize)
            if any(item is _STOP for item in items):
                stopping = True
                items = [item for item in items if item is not _STOP]
            try:
                if not self._room_for(size):
                    self._drop_items(items)
                    stopping = True
                    items = []
                self._write(items)
                if stopping or time.monotonic() >= next_flush:
                    self._flush()
                    next_flush = time.monotonic() + self.flush_interval_s
            except Exception as error:  # a failing disk must not kill the producers
                self.error = (
                    f"writing {self.path} failed ({type(error).__name__}: {error}): recording stopped; "
                    f"'recover {self.path}' keeps everything that reached the disk"
                )
                logger.opt(exception=error).error("recorder write failed")
                stopping = True
        self._close_file()
        if self.error and self.on_stop is not None:
            self.on_stop(self.error)

    def _room_for(self, batch_bytes: int) -> bool:
        """Whether the disk and the file-size limit leave room for this batch, keeping ``min_free_bytes``
        free on the disk; otherwise set the error that says which ran out."""
        usage = shutil.disk_usage(self.path.parent)
        limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        needed = batch_bytes * 2 + CLOSING_ROOM_BYTES  # HDF5 writes some metadata beside the samples
        if usage.free - needed < self.min_free_bytes:
            self.error = (
                f"the disk of {self.path} is nearly full ({usage.free / 1e6:.0f} MB free, keeping "
                f"{self.min_free_bytes / 1e6:.0f} MB): recording stopped, the file is closed and holds all until now"
            )
        elif limit != resource.RLIM_INFINITY and limit - self.path.stat().st_size < needed:
            self.error = (
                f"{self.path} reached this process's file-size limit ({limit / 1e6:.0f} MB): recording stopped, "
                "the file is closed and holds all until now"
            )
        return self.error is None

    def _drop_items(self, items: list) -> None:
        for item in items:
            if isinstance(item, Block):
                self._drop(item.stream, item.times)

    def _flush(self) -> None:
        self.handle.flush()
        self.flushes += 1
        for counts in self.counts.values():
            counts.samples_flushed = counts.samples_written

    def _write(self, items: list) -> None:
        # Samples first: they are the bulk of what a failing disk could cost.
        blocks: dict[str, list[Block]] = defaultdict(list)
        for item in items:
            if isinstance(item, Block):
                blocks[item.stream].append(item)
        for stream, stream_items in blocks.items():
            self._write_data(stream, stream_items)
        for item in items:
            if isinstance(item, MarkerItem):
                self._write_marker(item)
            elif isinstance(item, ClockOffset):
                offsets = self.handle[f"streams/{item.stream}/clock_offsets"]
                append_rows(offsets, np.array([[item.local_time_s, item.offset_s]]))
            elif isinstance(item, FilterChange):
                group = self.handle[f"streams/{item.stream}/filters"]
                append_rows(group["time"], np.array([item.time_s]))
                append_rows(group["chain"], np.array([item.chain_json.encode("utf-8")], dtype=CHAIN_DTYPE))
        with self._side_lock:
            gaps, self._pending_gaps = self._pending_gaps, []
        for stream, start, stop in gaps:
            append_rows(self.handle[f"streams/{stream}/gaps"], np.array([[start, stop]]))
            self.counts[stream].gaps_written += 1

    def _write_data(self, stream: str, items: list[Block]) -> None:
        # One resize per batch. Large blocks go straight into their slice (no copy); small ones are joined
        # first, since every HDF5 write has a fixed cost.
        group = self.handle[f"streams/{stream}"]
        data_set, time_set = group["data"], group["time"]
        total = sum(len(item.times) for item in items)
        position = data_set.shape[0]
        data_set.resize(position + total, axis=0)
        time_set.resize(position + total, axis=0)
        overview = []
        for data, times in _coalesce(items):
            data_set[position : position + len(times)] = data
            time_set[position : position + len(times)] = times
            if (rows := self._overviews[stream].rows(data, times)) is not None:
                overview.append(rows)
            position += len(times)
        if overview:
            append_overview(group, tuple(np.concatenate(parts) for parts in zip(*overview, strict=True)))
        counts = self.counts[stream]
        counts.samples_written += total
        counts.first_time = float(items[0].times[0]) if counts.first_time is None else counts.first_time
        counts.last_time = float(items[-1].times[-1])
        self.bytes_written += sum(item.data.nbytes + item.times.nbytes for item in items)

    def _write_marker(self, marker: MarkerItem) -> None:
        append_markers(self.handle["markers"], [marker.time_s], [marker.label], [marker.source])
        self.markers_written += 1

    def _close_file(self) -> None:
        try:
            if self.error is None:
                sort_markers(self.handle["markers"])
            self.handle.close()
        except Exception as error:
            self.error = self.error or f"closing {self.path} failed: {error}"
        finally:
            self.lock.release()

    def stop(self) -> RecorderStats:
        """Write everything queued, flush, close the file and return the final counts."""
        if not self._stopped:
            self._stopped = True
            if self._writer.is_alive():
                self.queue.put(_STOP)
                self._writer.join()
        return self.stats()

    def stats(self) -> RecorderStats:
        return RecorderStats(
            path=self.path,
            streams={name: StreamCounts(**vars(c)) for name, c in self.counts.items()},
            markers_written=self.markers_written,
            queue_fill=self.queue.qsize() / self.queue.maxsize,
            queue_peak=self.queue_peak,
            bytes_written=self.bytes_written,
            flushes=self.flushes,
            error=self.error,
            running=not self._stopped and self._writer.is_alive(),
        )


def _in_stream_dtype(stream: str, data: np.ndarray, dtype: str) -> np.ndarray:
    """Samples as the stream's own type; a conversion that could change a value is refused: samples are
    stored as their source gives them, never rounded on the way to disk."""
    if data.dtype == dtype:
        return data
    if np.can_cast(data.dtype, dtype, "safe"):
        return data.astype(dtype)
    raise ValueError(f"{stream}: samples of type {data.dtype} would lose precision as the stream's {dtype}")


def _coalesce(items: list[Block], large: int = 1 << 20):
    """(data, times) runs from queued blocks: each large block alone, consecutive small ones joined."""
    small: list[Block] = []
    for item in items:
        if item.data.nbytes >= large:
            if small:
                yield _join(small)
                small = []
            yield item.data, item.times
        else:
            small.append(item)
    if small:
        yield _join(small)


def _join(items: list[Block]) -> tuple[np.ndarray, np.ndarray]:
    if len(items) == 1:
        return items[0].data, items[0].times
    return np.concatenate([item.data for item in items]), np.concatenate([item.times for item in items])


def _item_bytes(item) -> int:
    return item.data.nbytes if isinstance(item, Block) else 64
