"""The simulated helmet's signal: realistic components, learnable evoked responses, reproducible."""

import numpy as np

from neuroshell.devices.simhelmet import HelmetSignal
from neuroshell.storage.plots import welch

RATE = 1000.0


def generate(seconds=40.0, channels=40, seed=1):
    signal = HelmetSignal(channels, RATE, seed)
    blocks, markers = [], []
    for _ in range(int(seconds / 0.02)):
        data, found = signal.next_block(20)
        blocks.append(data)
        markers += found
    return signal, np.concatenate(blocks).astype(np.float64), markers


def test_spectrum_has_one_over_f_alpha_and_line_noise():
    signal, data, _ = generate()
    freqs, power = welch(data, RATE, 2000)

    def band(f, channels=slice(None)):
        return power[np.argmin(np.abs(freqs - f)), channels].mean()

    occipital = slice(int(0.7 * signal.n_channels), None)
    frontal = slice(0, int(0.3 * signal.n_channels))
    assert band(50.0) > 20 * band(47.0), "50 Hz line noise"
    assert band(10.0, occipital) > 10 * band(13.0, occipital), "10 Hz alpha"
    assert band(10.0, occipital) > 10 * band(10.0, frontal), "alpha strongest over occipital channels"
    assert band(3.0) > 4 * band(30.0), "1/f background"


def test_heartbeat_repeats_at_a_human_rate():
    signal, data, _ = generate(seconds=30)
    heart = data @ (signal.heart_ft / np.linalg.norm(signal.heart_ft))
    above = np.flatnonzero(heart > 0.5 * heart.max())
    beats = 1 + np.count_nonzero(np.diff(above) > 0.3 * RATE)  # separate crossings, 300 ms refractory
    rate_bpm = 60 * beats / 30
    assert 55 < rate_bpm < 85


def test_markers_come_with_class_specific_evoked_fields():
    signal, data, markers = generate(seconds=60)
    labels = [label for _, label in markers]
    assert 35 <= len(markers) <= 80 and set(labels) == {"stim/left", "stim/right", "stim/tone"}
    gaps = np.diff([onset for onset, _ in markers]) / RATE
    assert gaps.min() >= 0.8 and gaps.max() <= 1.5
    window = int(0.5 * RATE)
    for k, name in enumerate(signal.classes):
        onsets = [onset for onset, label in markers if label == f"stim/{name}" and onset + window < len(data)]
        evoked = np.mean([data[o : o + window] - data[o - 50 : o].mean(axis=0) for o in onsets], axis=0)
        template = signal.templates[k, :window]
        correlation = [np.corrcoef(evoked.ravel(), signal.templates[j, :window].ravel())[0, 1] for j in range(3)]
        assert correlation[k] > 0.8, f"{name}: the average response is its own template"
        assert correlation[k] == max(correlation)
        assert np.abs(template).max() > 100  # fT: visible above the background


def test_same_seed_same_signal():
    _, first, m1 = generate(seconds=2, seed=5)
    _, second, m2 = generate(seconds=2, seed=5)
    _, other, _ = generate(seconds=2, seed=6)
    np.testing.assert_array_equal(first, second)
    assert m1 == m2
    assert not np.array_equal(first, other)
