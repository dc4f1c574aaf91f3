"""The simulated helmet's signal: realistic components, learnable evoked responses, reproducible; a subject's
head kept from one session to the next."""

import numpy as np

from neuroshell.devices.simhead import SENSOR_RADIUS_M, rotation_deg, subject_head
from neuroshell.devices.simhelmet import HelmetSignal
from neuroshell.storage.plots import welch
from tests.helpers import helmet_recording

RATE = 1000.0


def generate(seconds=40.0, channels=40, seed=1, difficulty="realistic"):
    signal = HelmetSignal(channels, RATE, seed, difficulty=difficulty)
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

    back = signal.head.sensors_m[:, 1]
    occipital, frontal = back < -0.3 * SENSOR_RADIUS_M, back > 0.3 * SENSOR_RADIUS_M
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
    signal, data, markers = generate(seconds=60, difficulty="easy")
    labels = [label for _, label in markers]
    assert 35 <= len(markers) <= 80 and set(labels) == {"stim/left", "stim/right", "stim/tone"}
    gaps = np.diff([onset for onset, _ in markers]) / RATE
    assert gaps.min() >= 0.8 and gaps.max() <= 1.5
    window = int(0.5 * RATE)
    for k, name in enumerate(signal.classes):
        onsets = [onset for onset, label in markers if label == f"stim/{name}" and onset + window < len(data)]
        evoked = np.mean([data[o : o + window] - data[o - 50 : o].mean(axis=0) for o in onsets], axis=0)
        template = signal.templates[k, :window] * signal.head.gains  # as the sensors measure it
        correlation = [
            np.corrcoef(evoked.ravel(), (signal.templates[j, :window] * signal.head.gains).ravel())[0, 1]
            for j in range(3)
        ]
        assert correlation[k] > 0.7, f"{name}: the average response is its own template"
        assert correlation[k] == max(correlation)
        assert np.abs(template).max() > 100  # fT: visible above the background


def test_same_seed_same_signal():
    _, first, m1 = generate(seconds=2, seed=5)
    _, second, m2 = generate(seconds=2, seed=5)
    _, other, _ = generate(seconds=2, seed=6)
    np.testing.assert_array_equal(first, second)
    assert m1 == m2
    assert not np.array_equal(first, other)


def test_a_subject_keeps_its_head_across_sessions_and_subjects_differ():
    first, second = HelmetSignal(64, 500.0, seed=1), HelmetSignal(64, 500.0, seed=2)
    other = HelmetSignal(64, 500.0, seed=1, subject="sub-02")
    subject = subject_head("sub-01", 64, 3)
    for session in (first, second):
        assert 1.0 <= rotation_deg(session.head.rotation) <= 4.0  # the head moved a few degrees
        assert np.all(np.abs(session.head.gains / subject.gains - 1) <= 0.05 + 1e-12)
        alpha_power = (session.head.alpha_ft / subject.alpha_ft) ** 2
        assert np.allclose(alpha_power, alpha_power[0]) and 0.8 <= alpha_power[0] <= 1.2
    assert rotation_deg(first.head.rotation @ second.head.rotation.T) <= 8.0

    def similarity(a, b):
        return [abs(np.corrcoef(x, y)[0, 1]) for x, y in zip(a.head.topographies(), b.head.topographies(), strict=True)]

    assert min(similarity(first, second)) > 0.9  # the same evoked fields, a few degrees apart
    assert np.mean(similarity(first, other)) < 0.6  # another subject's are elsewhere
    np.testing.assert_array_equal(first.head.latencies_s, second.head.latencies_s)
    assert not np.array_equal(first.head.latencies_s, other.head.latencies_s)


def test_realistic_difficulty_leaves_single_trials_between_075_and_095(session, tmp_path):
    """The demo's recording (306 ch, 1 kHz, stimuli every 0.4-0.7 s, 50 s): a logistic baseline trained on
    it and tested on the subject's next session."""
    from neuroshell.training.metrics import classification_metrics
    from neuroshell.training.trainer import LogisticBaseline

    def accuracy(difficulty: str) -> float:
        for name, seed, seconds, split in (("first", 7, 50, ""), ("next", 8, 30, " --split 0,0,1")):
            path = helmet_recording(
                tmp_path / f"{difficulty}-{name}.h5", seconds, channels=306, rate_hz=1000.0, seed=seed,
                difficulty=difficulty, interval_s=(0.4, 0.7),
            )  # fmt: skip
            session.execute(
                f"dataset epochs {path}:/streams/meg --markers stim/* --window -100ms:400ms --baseline -100ms:0s "
                f"--name {difficulty}_{name}{split}"
            )
        first, later = session.datasets[f"{difficulty}_first"], session.datasets[f"{difficulty}_next"]
        predicted = LogisticBaseline.fit(first, 12, 0).predict(later.X)
        return classification_metrics(later.y, predicted, 3)["accuracy"]

    assert 0.75 <= accuracy("realistic") <= 0.95
