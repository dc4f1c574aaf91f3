"""Byte-stream protocols for serial devices. Each parser turns bytes as they arrive into events, a
``SampleFrame`` or a ``MarkerFrame`` each. Corrupt frames are skipped and counted in ``corrupt``; the parser
resynchronises on the next valid frame.
"""

import re
import struct
import zlib
from typing import NamedTuple

import numpy as np


class SampleFrame(NamedTuple):
    """Samples as a frame carried them: ``values`` (n_samples, n_channels) in the protocol's own sample type
    (neuroshell frames float32, CSV text float64, Cyton int32 ADC counts); ``counter`` numbers the first
    sample on the device's counter (None when the protocol has none)."""

    counter: int | None
    values: np.ndarray


class MarkerFrame(NamedTuple):
    """A marker ``label`` the device sent, belonging to sample number ``counter``."""

    counter: int
    label: str


# The neuroshell frame (docs/serial-protocol.md):
#   sync A5 5A | type u8 | counter u32 LE | n_channels u16 LE | n_samples u16 LE | payload | CRC-32 u32 LE
# type 1: payload is n_samples x n_channels float32 LE, sample-major; counter numbers the first sample.
# type 2: payload is a UTF-8 marker label of n_samples bytes; counter is the sample it belongs to.
# The CRC (zlib.crc32) covers everything from the type byte to the end of the payload.
SYNC = b"\xa5\x5a"
HEADER = struct.Struct("<BIHH")
FRAME_SAMPLES, FRAME_MARKER = 1, 2
COUNTER_MODULUS = 1 << 32
MAX_CHANNELS = 4096


def encode_samples(counter: int, values: np.ndarray) -> bytes:
    """A type-1 frame: ``values`` (n_samples, n_channels) from sample number ``counter``."""
    values = np.ascontiguousarray(values, dtype="<f4")
    body = HEADER.pack(FRAME_SAMPLES, counter % COUNTER_MODULUS, values.shape[1], values.shape[0]) + values.tobytes()
    return SYNC + body + struct.pack("<I", zlib.crc32(body))


def encode_marker(counter: int, label: str) -> bytes:
    text = label.encode("utf-8")
    body = HEADER.pack(FRAME_MARKER, counter % COUNTER_MODULUS, 0, len(text)) + text
    return SYNC + body + struct.pack("<I", zlib.crc32(body))


class SyncedFrameParser:
    """Byte buffer and sync state shared by the framed protocols."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.corrupt = 0
        self.in_sync = False

    def reset(self) -> None:
        self.buffer.clear()
        self.in_sync = False

    def _lost_sync(self) -> None:
        # Count a corrupt frame once per loss of sync, not once per byte skipped while searching.
        if self.in_sync:
            self.corrupt += 1
            self.in_sync = False


class NeuroshellFrameParser(SyncedFrameParser):
    modulus = COUNTER_MODULUS
    sample_dtype = "float32"

    def __init__(self) -> None:
        super().__init__()
        self.n_channels: int | None = None

    def feed(self, data: bytes) -> list[SampleFrame | MarkerFrame]:
        self.buffer += data
        events = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                del self.buffer[: max(0, len(self.buffer) - 1)]
                return events
            if start > 0:
                self._lost_sync()
                del self.buffer[:start]
            if len(self.buffer) < 2 + HEADER.size:
                return events
            kind, counter, channels, samples = HEADER.unpack_from(self.buffer, 2)
            size = self._payload_size(kind, channels, samples)
            if size is None:
                self._lost_sync()
                del self.buffer[:1]
                continue
            end = 2 + HEADER.size + size + 4
            if len(self.buffer) < end:
                return events
            body = bytes(self.buffer[2 : end - 4])
            (crc,) = struct.unpack_from("<I", self.buffer, end - 4)
            if crc != zlib.crc32(body):
                self._lost_sync()
                del self.buffer[:1]
                continue
            del self.buffer[:end]
            self.in_sync = True
            payload = body[HEADER.size :]
            if kind == FRAME_SAMPLES:
                self.n_channels = channels
                values = np.frombuffer(payload, dtype="<f4").reshape(samples, channels).astype(np.float32)
                events.append(SampleFrame(counter, values))
            else:
                events.append(MarkerFrame(counter, payload.decode("utf-8", "replace")))

    @staticmethod
    def _payload_size(kind: int, channels: int, samples: int) -> int | None:
        if kind == FRAME_SAMPLES and 0 < channels <= MAX_CHANNELS and samples > 0:
            return channels * samples * 4
        if kind == FRAME_MARKER and channels == 0:
            return samples
        return None


_SEPARATORS = re.compile(r"[,;\s]+")


class CsvLineParser:
    """One line of comma-, semicolon- or space-separated numbers per sample (hobby and Arduino boards)."""

    modulus = None
    sample_dtype = "float64"  # decimal text: float64 keeps what was written

    def __init__(self, n_channels: int | None = None) -> None:
        self.n_channels = n_channels
        self.buffer = bytearray()
        self.corrupt = 0
        self.skip_partial_line = True

    def reset(self) -> None:
        self.buffer.clear()
        self.skip_partial_line = True  # after (re)connecting, the first line may be cut

    def feed(self, data: bytes) -> list[SampleFrame | MarkerFrame]:
        self.buffer += data
        *lines, rest = self.buffer.split(b"\n")
        self.buffer = bytearray(rest)
        rows = []
        for raw in lines:
            if self.skip_partial_line:
                self.skip_partial_line = False
                if not raw.strip() or not _numbers(raw):
                    continue
            row = _numbers(raw)
            if row is None:
                if raw.strip():
                    self.corrupt += 1
                continue
            if self.n_channels is None:
                self.n_channels = len(row)
            if len(row) != self.n_channels:
                self.corrupt += 1
                continue
            rows.append(row)
        return [SampleFrame(None, np.array(rows, dtype=np.float64))] if rows else []


def _numbers(raw: bytes) -> list[float] | None:
    text = raw.decode("ascii", "replace").strip()
    if not text:
        return None
    try:
        return [float(word) for word in _SEPARATORS.split(text) if word]
    except ValueError:
        return None


# OpenBCI Cyton: 33-byte packets, 250 Hz, 8 channels of 24-bit big-endian two's complement.
# docs.openbci.com (Cyton Data Format): header 0xA0, sample number, 8 x 3 bytes EXG data,
# 6 bytes aux data, footer 0xC0..0xC6. Scale: uV/count = 4.5 V / gain / (2^23 - 1) * 1e6, gain 24 default.
CYTON_HEADER = 0xA0
CYTON_PACKET = 33
CYTON_RATE_HZ = 250.0
CYTON_CHANNELS = 8
CYTON_START, CYTON_STOP = b"b", b"s"


def cyton_scale_uv(gain: float = 24.0) -> float:
    return 4.5 / gain / (2**23 - 1) * 1e6


class CytonFrameParser(SyncedFrameParser):
    """Cyton packets as int32 ADC counts; ``scale`` (uV per count) makes them microvolts on reading."""

    modulus = 256
    n_channels = CYTON_CHANNELS
    sample_dtype = "int32"

    def __init__(self, gain: float = 24.0) -> None:
        super().__init__()
        self.scale = cyton_scale_uv(gain)

    def feed(self, data: bytes) -> list[SampleFrame | MarkerFrame]:
        self.buffer += data
        events: list[SampleFrame | MarkerFrame] = []
        counters, rows = [], []
        while len(self.buffer) >= CYTON_PACKET:
            if self.buffer[0] != CYTON_HEADER or not 0xC0 <= self.buffer[CYTON_PACKET - 1] <= 0xC6:
                self._lost_sync()
                del self.buffer[:1]
                continue
            packet = bytes(self.buffer[:CYTON_PACKET])
            del self.buffer[:CYTON_PACKET]
            self.in_sync = True
            raw = np.frombuffer(packet[2:26], dtype=np.uint8).reshape(CYTON_CHANNELS, 3).astype(np.int32)
            counts = (raw[:, 0] << 16) | (raw[:, 1] << 8) | raw[:, 2]
            counts = np.where(counts >= 1 << 23, counts - (1 << 24), counts)
            counters.append(packet[1])
            rows.append(counts)
        # Consecutive packets form one block; a counter jump starts a new one so the gap is seen.
        start = 0
        for index in range(1, len(counters) + 1):
            if index == len(counters) or counters[index] != (counters[index - 1] + 1) % 256:
                events.append(SampleFrame(counters[start], np.array(rows[start:index], dtype=np.int32)))
                start = index
        return events


PROTOCOLS = {"neuroshell": NeuroshellFrameParser, "csv": CsvLineParser, "cyton": CytonFrameParser}
