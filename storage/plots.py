"""Plots of recorded streams: stacked traces (min/max envelopes, markers, gaps) and power spectra."""

import itertools

import numpy as np

from neuroshell.common.words import shortened
from neuroshell.storage.errors import StorageError
from neuroshell.storage.figures import new_figure
from neuroshell.storage.files import StreamView

MAX_POINTS = 2000  # envelope points across the plot's width
MAX_MARKER_LABELS = 60  # more labels than this cannot be read on one plot
MARKER_LABEL_CHARS = 40  # a longer label is drawn cut, with an ellipsis (the file keeps it whole)
TYPED_SOURCES = ("prompt", "script", "command", "user")  # markers a person typed (docs/file-format.md)


def envelope(view: StreamView, channels: list[int], start_s: float, stop_s: float, points: int = MAX_POINTS):
    """Time (s), min and max (points, channels) of the stream between two times, reading the min/max overview
    instead of the samples when the span is long, so an hour of data plots in about a second."""
    first, last = view.index_at(start_s), view.index_at(stop_s)
    if last <= first:
        raise StorageError(f"{view.name} has no samples between {start_s:.3f} s and {stop_s:.3f} s")
    block = int(view.group.attrs.get("overview_block_samples", 0))
    overview = view.group.get("overview_time")
    if block and overview is not None and overview.shape[0] and (last - first) > points * block:
        starts = overview[:]
        lo = int(np.searchsorted(starts, view.time[first], side="left"))
        hi = int(np.searchsorted(starts, view.time[last - 1], side="right"))
        if hi - lo >= points // 4:
            mins, maxs = view.overview(lo, hi, channels)
            return _reduce(overview[lo:hi], mins, maxs, points)
    data = np.asarray(view.samples(first, last, channels), dtype=np.float64)
    times = view.time[first:last]
    return _reduce(times, data, data, points)


def _reduce(times: np.ndarray, mins: np.ndarray, maxs: np.ndarray, points: int):
    """At most ``points`` min/max bins over consecutive samples; a NaN row where the data has a hole, so no
    line is drawn across a gap."""
    if len(times) > points:
        per = int(np.ceil(len(times) / points))
        starts = np.arange(0, len(times), per)
        times = times[starts]
        mins = np.minimum.reduceat(mins, starts, axis=0)
        maxs = np.maximum.reduceat(maxs, starts, axis=0)
    if len(times) < 3:
        return times, mins, maxs
    steps = np.diff(times)
    holes = np.flatnonzero(steps > 1.5 * np.median(steps)) + 1
    nan_row = np.full((1, mins.shape[1]), np.nan)
    return (
        np.insert(times, holes, times[holes - 1] + np.median(steps)),
        np.insert(mins.astype(float), holes, nan_row, axis=0),
        np.insert(maxs.astype(float), holes, nan_row, axis=0),
    )


def plot_traces(
    view: StreamView,
    channels: list[int],
    start_s: float,
    stop_s: float,
    markers: tuple[np.ndarray, list[str], list[str]],
    title: str,
):
    """Stacked traces of ``channels`` (indices) between two session times, with markers (times, labels,
    sources: typed ones dashed and green, a device's solid and red) and gaps."""
    times, mins, maxs = envelope(view, channels, start_s, stop_s)
    origin = view.time_span_s[0]
    figure = new_figure(12, max(4.0, 0.35 * len(channels) + 1.5))
    axes = figure.add_subplot()
    centre = (mins + maxs) / 2
    spread = np.nanpercentile(np.abs(centre - np.nanmedian(centre, axis=0)), 99) or 1.0
    offsets = -np.arange(len(channels)) * 2.5 * spread
    x = times - origin
    for k in range(len(channels)):
        baseline = np.nanmedian(centre[:, k])
        low, high = mins[:, k] - baseline + offsets[k], maxs[:, k] - baseline + offsets[k]
        if np.any(high > low):
            axes.fill_between(x, low, high, color="C0", linewidth=0.4, alpha=0.8)
        axes.plot(x, (low + high) / 2, color="C0", linewidth=0.5)
    names = [view.spec.channel_names[c] for c in channels]
    axes.set_yticks(offsets, names, fontsize=7)
    marker_times, marker_labels, marker_sources = markers
    inside = np.flatnonzero((marker_times >= start_s) & (marker_times <= stop_s))
    typed = np.array([marker_sources[i] in TYPED_SOURCES for i in inside], dtype=bool)
    for chosen, colour, style, what in ((~typed, "C3", "solid", "from a device"), (typed, "C2", "dashed", "typed")):
        if chosen.any():  # one collection per kind: an hour holds thousands
            lines = marker_times[inside[chosen]] - origin
            axes.vlines(lines, 0, 1, transform=axes.get_xaxis_transform(), color=colour, lw=0.8, alpha=0.7,
                        linestyles=style, label=f"markers {what}")  # fmt: skip
    if len(inside) <= MAX_MARKER_LABELS:
        for index, is_typed in zip(inside, typed, strict=True):
            axes.text(
                marker_times[index] - origin,
                offsets[0] + 1.5 * spread,
                shortened(marker_labels[index], MARKER_LABEL_CHARS),
                rotation=90,
                fontsize=6,
                color="C2" if is_typed else "C3",
                va="bottom",
            )
    else:
        title += f" ({len(inside)} markers: labels drawn for {MAX_MARKER_LABELS} or fewer; narrow --from/--to)"
    for gap_start, gap_stop in view.gaps():
        if gap_stop >= start_s and gap_start <= stop_s:
            right = min(gap_stop, stop_s) if np.isfinite(gap_stop) else stop_s
            axes.axvspan(max(gap_start, start_s) - origin, right - origin, color="0.6", alpha=0.4, label="gap")
    if len(inside):
        axes.legend(loc="upper right", fontsize=7)
    unit = (view.spec.channel_units or ["?"])[0]
    axes.set_xlabel("time from the start of the stream (s)")
    axes.set_ylabel(f"channel (spacing {2.5 * spread:.3g} {unit})")
    axes.set_title(title)
    return figure


def welch(data: np.ndarray, rate_hz: float, segment: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of ``data`` (n_samples, n_channels): Hann windows of ``segment``
    samples overlapping by half, one-sided, in units^2/Hz. Returns frequencies (Hz) and (n_freqs, n_channels)."""
    window = np.hanning(segment + 1)[:-1]  # periodic Hann, as spectral estimators use
    step = segment // 2
    starts = range(0, len(data) - segment + 1, step)
    spectra = [
        np.abs(np.fft.rfft((data[s : s + segment] - data[s : s + segment].mean(axis=0)) * window[:, None], axis=0)) ** 2
        for s in starts
    ]
    power = np.mean(spectra, axis=0) / (rate_hz * np.sum(window**2))
    power[1 : (segment + 1) // 2] *= 2  # one-sided: fold the negative frequencies in (not DC or Nyquist)
    return np.fft.rfftfreq(segment, 1 / rate_hz), power


def plot_psd(view: StreamView, start_s: float, stop_s: float, title: str, groups: int = 4):
    """Welch power spectra, averaged within up to ``groups`` consecutive channel groups; log axes."""
    rate = view.sampling_rate_hz
    if rate <= 0:
        raise StorageError(f"{view.name} is irregularly sampled: a spectrum needs a sampling rate")
    data, _ = view.between(start_s, stop_s)
    if len(data) < 64:
        raise StorageError(f"{view.name} has too few samples in that span for a spectrum")
    frequencies, power = welch(np.asarray(data, dtype=np.float64), rate, min(len(data), int(2 * rate)))
    figure = new_figure(10, 6)
    axes = figure.add_subplot()
    bounds = np.linspace(0, power.shape[1], min(groups, power.shape[1]) + 1).astype(int)
    names = view.spec.channel_names
    for a, b in itertools.pairwise(bounds):
        axes.loglog(frequencies[1:], power[1:, a:b].mean(axis=1), label=f"{names[a]}–{names[b - 1]}")
    unit = (view.spec.channel_units or ["?"])[0]
    axes.set_xlabel("frequency (Hz)")
    axes.set_ylabel(f"power ({unit}²/Hz)")
    axes.set_title(title)
    axes.legend(fontsize=8)
    axes.grid(True, which="both", alpha=0.3)
    return figure
