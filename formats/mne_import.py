"""FIF, EDF/BDF, BrainVision and EEGLAB files in through ``mne.io.read_raw``, read block by block."""

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuroshell.common.channels import SHOWN_UNITS, UNITS, si_unit
from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.mne_export import FIFF_UNITS, SKIP
from neuroshell.formats.target import ImportTarget
from neuroshell.storage.spec import StreamSpec

mne = require("mne")

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
    ``mne.find_events`` finds them (label: the event's code); the channel stays a data channel. A file of
    annotations only (a hypnogram) gives markers and no stream.

    Returns ``streams`` (name: samples), ``markers``, ``stim_events``, ``gaps`` and ``notes`` (a truncated
    file, said)."""
    raw, notes = _read(source)
    rate = float(raw.info["sfreq"])
    zero = raw.info["meas_date"].timestamp() if raw.info["meas_date"] is not None else 0.0
    first_s = raw.first_samp / rate
    kinds = raw.get_channel_types() if raw.ch_names else []  # a file of annotations only has no channel
    target_file = ImportTarget(target, zero, source, overwrite)
    streams, skips = {}, []
    try:
        if kinds:
            name = target_file.stream_name(Path(source).stem)
            skips = _skips(raw, first_s)
            blocks = _blocks(raw, first_s, skips, progress, source)
            streams[name] = target_file.add_stream(
                _spec(raw, name, kinds), blocks, gaps=[(first_s + a / rate, first_s + b / rate) for a, b in skips]
            )
        # MNE keeps a Raw's annotations inside its samples: a file of annotations only is read for them alone
        annotations = raw.annotations if kinds else mne.read_annotations(source)
        markers = _markers(annotations, first_s, Path(source).suffix.lower() == ".fif")
        events = _stim_events(raw, stim, kinds)
        target_file.add_markers(*(a + b for a, b in zip(markers, events, strict=True)))
    finally:
        target_file.close()
    return {
        "streams": streams,
        "markers": len(markers[0]) + len(events[0]),
        "stim_events": len(events[0]),
        "gaps": len(skips),
        "notes": notes,
    }


def _read(source: Path) -> tuple:
    """MNE's Raw of ``source`` and notes: a file shorter than its header says is read as far as it goes, and
    said; a damaged one is refused in one line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = mne.io.read_raw(source, preload=False, verbose="warning")
        except Exception as error:  # MNE raises many kinds: one line for each
            raise FormatError(f"MNE cannot read {source}: {error}") from None
    said = [str(warning.message) for warning in caught]
    damaged = [text.split(" in file")[0] for text in said if "Invalid tag" in text]
    if damaged:
        raise FormatError(f"{source} is truncated or damaged (MNE: {damaged[0]}): not imported")
    notes = []
    if any("does not match the file size" in text for text in said):
        seconds = raw.n_times / raw.info["sfreq"]
        notes.append(
            f"truncated: {source.name} holds fewer records than its header says; "
            f"{raw.n_times} samples ({seconds:.1f} s) read, as far as the file goes"
        )
    return raw, notes


def _spec(raw, name: str, kinds: list[str]) -> StreamSpec:
    units = [_unit_and_scale(raw, index, kind) for index, kind in enumerate(kinds)]
    return StreamSpec(
        name,
        list(raw.ch_names),
        float(raw.info["sfreq"]),
        [u for u, _ in units],
        "float32" if getattr(raw, "orig_format", "double") == "single" else "float64",
        source="import",
        scale=[f for _, f in units],
        channel_types=list(kinds),
        info=_sensor_geometry(raw),
    )


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


def _sensor_geometry(raw) -> dict:
    """Where each sensor is and what it is (MNE's ``loc`` (n, 12) and ``coil_type``), so an export to FIF
    gives source analysis the same sensors; nothing for a file that has none."""
    locations = np.array([ch["loc"] for ch in raw.info["chs"]], dtype=np.float64)
    if not np.isfinite(locations).any() or not np.nan_to_num(locations).any():
        return {}
    coils = np.array([int(ch["coil_type"]) for ch in raw.info["chs"]], dtype=np.int64)
    return {"mne_channel_locations": locations, "mne_coil_types": coils}


def _unit_and_scale(raw, index: int, kind: str) -> tuple[str, float]:
    """The unit a channel is shown in and the scale from MNE's value to it. MNE gives values in the SI unit
    its channel info names; a channel MNE leaves unitless holds SI values where the file named a unit that
    MNE's reader converts (BrainVision's uS: siemens), which the table of units knows too."""
    if kind == "stim":
        return "count", 1.0
    si = FIFF_UNITS.get(int(raw.info["chs"][index]["unit"]))
    if si is None:
        named = str((getattr(raw, "_orig_units", None) or {}).get(raw.ch_names[index], "n/a"))
        if named not in UNITS:
            return named, 1.0
        si, shown = UNITS[named].si, named
    else:
        shown = SHOWN_UNITS.get(kind, si)
    if si_unit(shown).si != si:
        shown = si
    return shown, 1.0 / si_unit(shown).factor


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


def _blocks(raw, first_s: float, skips, progress, source: Path):
    rate, n = raw.info["sfreq"], raw.n_times
    step = max(1, int(BLOCK_S * rate))
    for start in range(0, n, step):
        stop = min(n, start + step)
        keep = np.ones(stop - start, bool)
        for a, b in skips:
            keep[max(a, start) - start : max(min(b, stop) - start, 0)] = False
        try:
            data = raw.get_data(start=start, stop=stop).T
        except Exception as error:  # a reader's own error on a damaged file: one line, nothing kept
            raise FormatError(f"{source} is damaged: reading samples {start}-{stop} failed ({error})") from None
        times = first_s + np.arange(start, stop) / rate
        if progress is not None:
            progress(stop / n)
        yield data[keep], times[keep]


def _latin1_references_decoded(text: str) -> str:
    """A FIF label as it was given: FIF strings are Latin-1 and MNE writes other characters as numeric
    character references (``&#8364;`` for a euro sign)."""
    return re.sub(r"&#(\d+);", lambda found: chr(int(found.group(1))), text)


def _markers(annotations, first_s: float, fif: bool) -> tuple[list, list, list]:
    offset = 0.0 if annotations.orig_time is not None else first_s
    extras = getattr(annotations, "extras", None) or [{}] * len(annotations)
    times, labels, sources = [], [], []
    for onset, label, extra in zip(annotations.onset, annotations.description, extras, strict=True):
        if label != SKIP:
            times.append(float(onset) + offset)
            labels.append(_latin1_references_decoded(str(label)) if fif else str(label))
            sources.append(str((extra or {}).get("source", "annotation")))
    return times, labels, sources
