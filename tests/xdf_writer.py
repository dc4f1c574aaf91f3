"""A minimal XDF writer for tests, written from the XDF specification (no maintained Python library writes
XDF; LabRecorder is C++): file header, stream headers, sample chunks, clock offsets, boundaries, footers."""

import struct
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

FORMATS = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}


def _varlen(value: int) -> bytes:
    if value < 256:
        return struct.pack("<BB", 1, value)
    return struct.pack("<BI", 4, value)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(stream: dict) -> str:
    channels = "".join(
        f"<channel><label>{escape(label)}</label><unit>{escape(unit)}</unit></channel>"
        for label, unit in zip(stream.get("labels", []), stream.get("units", []), strict=True)
    )
    return (
        '<?xml version="1.0"?><info>'
        f"<name>{stream['name']}</name><type>{stream['type']}</type>"
        f"<channel_count>{stream['channel_count']}</channel_count>"
        f"<nominal_srate>{stream['rate']}</nominal_srate>"
        f"<channel_format>{stream['format']}</channel_format>"
        f"<source_id>{stream['name']}-id</source_id><created_at>0</created_at>"
        f"<desc><channels>{channels}</channels></desc></info>"
    )


def _samples(stream_id: int, stream: dict, times: np.ndarray, values) -> bytes:
    body = struct.pack("<I", stream_id) + _varlen(len(times))
    for time_s, value in zip(times, values, strict=True):
        body += struct.pack("<Bd", 8, float(time_s))
        if stream["format"] == "string":
            for text in value:
                encoded = text.encode("utf-8")
                body += _varlen(len(encoded)) + encoded
        else:
            body += np.asarray(value, dtype=FORMATS[stream["format"]]).tobytes()
    return _chunk(3, body)


def write_xdf(path: Path, streams: list[dict], file_datetime: str) -> None:
    """``streams``: dicts with name, type, channel_count, rate, format (float32, double64, int16, int32 or
    string), times (n,), values (n, channels) or lists of strings, labels, units, and offsets [(time, offset)].
    Samples go in chunks of 100, interleaved between streams, as a recorder writes them."""
    out = bytearray(b"XDF:")
    out += _chunk(
        1, f'<?xml version="1.0"?><info><version>1.0</version><datetime>{file_datetime}</datetime></info>'.encode()
    )
    for number, stream in enumerate(streams, 1):
        out += _chunk(2, struct.pack("<I", number) + _header_xml(stream).encode())
    longest = max(len(s["times"]) for s in streams)
    for start in range(0, longest, 100):
        for number, stream in enumerate(streams, 1):
            times, values = stream["times"][start : start + 100], stream["values"][start : start + 100]
            if len(times):
                out += _samples(number, stream, times, values)
        if start == 0:
            out += _chunk(5, bytes(range(16)))  # a boundary chunk: readers must skip it
    for number, stream in enumerate(streams, 1):
        for collected, offset in stream.get("offsets", []):
            out += _chunk(4, struct.pack("<Idd", number, collected, offset))
    for number, stream in enumerate(streams, 1):
        times = stream["times"]
        footer = (
            f'<?xml version="1.0"?><info><first_timestamp>{times[0]}</first_timestamp>'
            f"<last_timestamp>{times[-1]}</last_timestamp><sample_count>{len(times)}</sample_count></info>"
        )
        out += _chunk(6, struct.pack("<I", number) + footer.encode())
    Path(path).write_bytes(bytes(out))
