"""Filtering a recording after the fact, over its continuous data (never per epoch): a chain either redone
exactly as it ran live (causal, ``redo_chains``) or zero-phase as MNE-Python's ``filter`` does
(``zero_phase``). In both, the signal restarts after every gap: no filter reaches across one."""

import itertools

import numpy as np

from neuroshell.filters.chain import ChainSpec, ChainState
from neuroshell.storage.records import ChainInForce


def segments(times: np.ndarray, gaps: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges (first, stop) of ``times`` (n,) in s with no gap inside; ``gaps`` (k, 2) start/stop in s."""
    restart_at = np.searchsorted(times, np.asarray(gaps).reshape(-1, 2)[:, 1])
    bounds = sorted({0, len(times), *restart_at.tolist()})
    return [(first, last) for first, last in itertools.pairwise(bounds) if last > first]


def redo_chains(
    data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, changes: list[ChainInForce]
) -> np.ndarray:
    """``data`` (n, n_channels) in the channels' units, ``times`` (n,) in s, ``gaps`` (k, 2) start/stop in s,
    ``changes`` as the file keeps them (``StreamView.filter_changes``). Returns the filtered data (n, n_channels)
    float64; samples before the first change stay raw."""
    out = np.asarray(data, dtype=np.float64).copy()
    if not changes or not len(times):
        return out
    change_at = np.searchsorted(times, [change.time_s for change in changes])
    restarts = [first for first, _ in segments(times, gaps)]
    bounds = sorted({0, len(times), *change_at.tolist(), *restarts})
    for first, last in itertools.pairwise(bounds):
        in_force = int(np.searchsorted(change_at, first, side="right")) - 1
        if in_force < 0 or first == last:
            continue
        chain = ChainSpec.from_json(changes[in_force].chain_json)
        if chain.stages:
            out[first:last] = ChainState(chain, rate_hz, data.shape[1]).process(out[first:last])
    return out


def causal(data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, chain: ChainSpec) -> np.ndarray:
    """``chain`` run as ``filter`` runs it on a live device from the first sample on (its state from zero
    there and after each gap): what a decoder behind that chain sees. Shapes as ``redo_chains``."""
    if not len(times):
        return np.asarray(data, dtype=np.float64).copy()
    return redo_chains(data, times, rate_hz, gaps, [ChainInForce(float(times[0]), chain.to_json())])


def zero_phase(data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, chain: ChainSpec) -> np.ndarray:
    """``chain`` without phase shift, through MNE-Python's own filters: the common average first, then
    ``mne.filter.filter_data`` (FIR, firwin, MNE's default transition bands) for the high-, low- and band-pass
    stages and ``mne.filter.notch_filter`` for a notch and its harmonics below Nyquist, each gap-free segment
    on its own. ``data`` (n, n_channels) in the channels' units; returns (n, n_channels) float64."""
    import mne

    out = np.asarray(data, dtype=np.float64).copy()
    stages = chain.ordered()
    if any(stage.kind == "reref" for stage in stages):
        out -= out.mean(axis=1, keepdims=True)
    low = max((s.low_hz for s in stages if s.kind in ("highpass", "bandpass")), default=None)
    high = min((s.high_hz for s in stages if s.kind in ("lowpass", "bandpass")), default=None)
    nyquist = rate_hz / 2
    for first, last in segments(times, gaps):
        piece = out[first:last].T
        if low is not None or high is not None:
            piece = mne.filter.filter_data(piece, rate_hz, low, high, verbose="error")
        for stage in (s for s in stages if s.kind == "notch"):
            harmonics = np.arange(stage.low_hz, nyquist, stage.low_hz)
            harmonics = harmonics[harmonics < nyquist * 0.98]
            piece = mne.filter.notch_filter(piece, rate_hz, harmonics, verbose="error")
        out[first:last] = piece.T
    return out
