"""FIF, EDF/BDF, BrainVision and EEGLAB files in through ``mne.io.read_raw``, read block by block."""

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.mne_export import SKIP
from neuroshell.formats.target import ImportTarget
from neuroshell.storage.spec import StreamSpec

mne = require("mne")

# MNE channel type -> (unit the file keeps, factor from MNE's SI value to it).
UNITS = {"mag": ("fT", 1e15), "grad": ("fT/cm", 1e13), **{k: ("uV", 1e6) for k in ("eeg", "eog", "ecg", "emg", "seeg")}}
BLOCK_S = 10.0


def import_raw(
    source: Path,
    target: Path,
    overwrite: bool,
    progress: Callable[[float], None] | None = None,
    stim: str | None = None,
) -> dict:
    """Write ``source`` (any file ``mne.io.read_raw`` reads) as a neuroshell file at ``target``: one stream named
    after the file, samples as MNE gives them in SI (float32 when the file holds float32), ``scale`` to the
    usual unit (fT, uV), annotations as markers, BAD_ACQ_SKIP spans left out and kept as gaps. The events of
    the trigger channel ``stim`` (by default every channel of MNE type ``stim``) become markers too, as
    ``mne.find_events`` finds them (label: the event's code); the channel stays a data channel."""
    try:
        raw = mne.io.read_raw(source, preload=False, verbose="error")
    except Exception as error:  # MNE raises many kinds: one line for each
        raise FormatError(f"MNE cannot read {source}: {error}") from None
    rate = float(raw.info["sfreq"])
    zero = raw.info["meas_date"].timestamp() if raw.info["meas_date"] is not None else 0.0
    first_s = raw.first_samp / rate
    kinds = raw.get_channel_types()
    units = [UNITS.get(kind, (_orig_unit(raw, name), 1.0)) for kind, name in zip(kinds, raw.ch_names, strict=True)]
    dtype = "float32" if getattr(raw, "orig_format", "double") == "single" else "float64"
    target_file = ImportTarget(target, zero, source, overwrite)
    try:
        name = target_file.stream_name(Path(source).stem)
        spec = StreamSpec(
            name,
            list(raw.ch_names),
            rate,
            [u for u, _ in units],
            dtype,
            source="import",
            info={"mne_channel_types": list(kinds)},
            scale=[f for _, f in units],
        )
        skips = _skips(raw, first_s)
        blocks = _blocks(raw, dtype, first_s, skips, progress)
        samples = target_file.add_stream(
            spec, blocks, gaps=[(first_s + a / rate, first_s + b / rate) for a, b in skips]
        )
        markers = _markers(raw, first_s, Path(source).suffix.lower() == ".fif")
        events = _stim_events(raw, stim, kinds)
        target_file.add_markers(*(a + b for a, b in zip(markers, events, strict=True)))
    finally:
        target_file.close()
    return {
        "stream": name,
        "samples": samples,
        "markers": len(markers[0]) + len(events[0]),
        "stim_events": len(events[0]),
        "gaps": len(skips),
    }


def _stim_events(raw, stim: str | None, kinds: list[str]) -> tuple[list, list, list]:
    """Markers (times in s, labels, sources) from trigger channels' onsets, as ``mne.find_events`` gives them."""
    if stim is not None and stim not in raw.ch_names:
        raise FormatError(f"--stim {stim}: the file has no such channel (channels: {', '.join(raw.ch_names[:8])} ...)")
    channels = [stim] if stim else [n for n, kind in zip(raw.ch_names, kinds, strict=True) if kind == "stim"]
    times, labels, sources = [], [], []
    rate = raw.info["sfreq"]
    for channel in channels:
        events = mne.find_events(raw, stim_channel=channel, shortest_event=1, verbose="error")
        times += [float(sample) / rate for sample in events[:, 0]]
        labels += [str(int(code)) for code in events[:, 2]]
        sources += [f"stim {channel}"] * len(events)
    return times, labels, sources


def _orig_unit(raw, channel: str) -> str:
    return str((getattr(raw, "_orig_units", None) or {}).get(channel, "unknown"))


def _skips(raw, first_s: float) -> list[tuple[int, int]]:
    """Sample ranges (start, stop) inside BAD_ACQ_SKIP annotations: acquisition was off there."""
    rate, spans = raw.info["sfreq"], []
    for onset, duration, label in zip(
        raw.annotations.onset, raw.annotations.duration, raw.annotations.description, strict=True
    ):
        if label == SKIP:
            start = round((onset - raw.first_time) * rate) if raw.annotations.orig_time else round(onset * rate)
            spans.append((max(0, start), min(raw.n_times, start + round(duration * rate))))
    return sorted(spans)


def _blocks(raw, dtype: str, first_s: float, skips, progress):
    rate, n = raw.info["sfreq"], raw.n_times
    step = max(1, int(BLOCK_S * rate))
    for start in range(0, n, step):
        stop = min(n, start + step)
        keep = np.ones(stop - start, bool)
        for a, b in skips:
            keep[max(a, start) - start : max(min(b, stop) - start, 0)] = False
        data = raw.get_data(start=start, stop=stop).T.astype(dtype)
        times = first_s + np.arange(start, stop) / rate
        if progress is not None:
            progress(stop / n)
        yield data[keep], times[keep]


def _latin1_references_decoded(text: str) -> str:
    """A FIF label as it was given: FIF strings are Latin-1 and MNE writes other characters as numeric
    character references (``&#8364;`` for a euro sign)."""
    return re.sub(r"&#(\d+);", lambda found: chr(int(found.group(1))), text)


def _markers(raw, first_s: float, fif: bool) -> tuple[list, list, list]:
    annotations = raw.annotations
    offset = 0.0 if annotations.orig_time is not None else first_s
    extras = getattr(annotations, "extras", None) or [{}] * len(annotations)
    times, labels, sources = [], [], []
    for onset, label, extra in zip(annotations.onset, annotations.description, extras, strict=True):
        if label != SKIP:
            times.append(float(onset) + offset)
            labels.append(_latin1_references_decoded(str(label)) if fif else str(label))
            sources.append(str((extra or {}).get("source", "annotation")))
    return times, labels, sources
