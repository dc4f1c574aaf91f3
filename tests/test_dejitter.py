"""The dejittering clock on its own, over long simulated runs: arrivals made from known true sample times."""

import numpy as np
import pytest

from neuroshell.devices.dejitter import MAX_SLEW, StreamClock

RATE_HZ = 500.0
BLOCK = 10


def arrivals(seconds: float, ppm: float, seed: int = 0, stall_every_s: float = 5.0, t0: float = 1000.3):
    """Blocks of a device whose crystal is ``ppm`` fast: (first index, true times, arrival of the last sample).
    Each block is sent 0-30 ms after its last sample, in order, and every ``stall_every_s`` the link stalls
    for 250 ms and then sends what waited in one burst."""
    rng = np.random.default_rng(seed)
    period = 1 / (RATE_HZ * (1 + ppm * 1e-6))
    sent = t0
    for first in range(0, int(seconds * RATE_HZ), BLOCK):
        true = t0 + (first + np.arange(BLOCK)) * period
        due = true[-1] + rng.uniform(0.0, 0.030)
        if int((true[-1] - t0) / stall_every_s) != int((true[-1] - t0 - BLOCK * period) / stall_every_s):
            due = true[-1] + 0.25
        sent = max(sent, due)
        yield first, true, sent


def run(clock: StreamClock, blocks) -> tuple[np.ndarray, np.ndarray]:
    times, truth = [], []
    for first, true, arrival in blocks:
        placed = clock.place(first, len(true), arrival)
        assert placed.gap is None
        times.append(placed.times)
        truth.append(true)
    return np.concatenate(times), np.concatenate(truth)


@pytest.mark.parametrize("ppm", [200.0, -200.0, 0.0])
def test_jitter_stalls_and_drift_are_followed_without_a_step(ppm):
    times, truth = run(StreamClock(RATE_HZ), arrivals(180.0, ppm, seed=int(ppm) % 7))
    steps = np.diff(times)
    assert steps.min() > 0
    np.testing.assert_allclose(steps, 1 / RATE_HZ, rtol=0.005)  # the spacing stays within 1/rate +/- 0.5%
    after_a_minute = int(60 * RATE_HZ)
    assert np.abs(times - truth)[after_a_minute:].max() < 2e-3
    # a 30 ms jitter would put a mean fit 15 ms late; the envelope is within a fraction of a millisecond
    assert abs(np.median(times[after_a_minute:] - truth[after_a_minute:])) < 0.5e-3


def test_the_first_block_late_is_slewed_back_at_most_by_the_slew_limit():
    clock = StreamClock(RATE_HZ)
    first = clock.place(0, BLOCK, 10.0 + (BLOCK - 1) / RATE_HZ + 0.040)  # 40 ms late
    later = clock.place(BLOCK, BLOCK, 10.0 + (2 * BLOCK - 1) / RATE_HZ)  # on time
    step = later.times[0] - first.times[-1]
    assert step == pytest.approx((1 - MAX_SLEW) / RATE_HZ)


def test_a_counter_restart_starts_a_new_segment_after_the_last_sample():
    clock = StreamClock(RATE_HZ)
    before = clock.place(0, BLOCK, 100.0)
    clock.reset()
    # the device restarted and its first block arrives a little before the old segment's last time
    after = clock.place(0, BLOCK, 100.0 - 0.001)
    assert after.gap == (before.times[-1], after.times[0])
    assert after.times[0] > before.times[-1]
    assert np.all(np.diff(after.times) > 0)


def test_samples_missing_unannounced_start_a_new_segment_with_a_gap():
    clock = StreamClock(RATE_HZ, numbered=False)
    t0 = 50.0
    times, gaps = [], []
    for block in range(400):  # 8 s; after 4 s the device's count falls 1 s behind (samples it never sent)
        first = block * BLOCK
        late = 1.0 if block >= 200 else 0.0
        placed = clock.place(first, BLOCK, t0 + (first + BLOCK - 1) / RATE_HZ + late + 0.001)
        times.append(placed.times)
        if placed.gap:
            gaps.append(placed.gap)
    times = np.concatenate(times)
    assert len(gaps) == 1 and gaps[0][1] - gaps[0][0] > 0.5
    assert np.all(np.diff(times) > 0)
    # after the new segment the samples sit at their (later) true times again
    assert times[-1] == pytest.approx(t0 + (len(times) - 1) / RATE_HZ + 1.0, abs=2e-3)


def test_per_sample_observations_and_time_of_inside_a_block():
    clock = StreamClock(100.0)
    source_times = 20.0 + np.arange(50) / 100.0  # an LSL source that stamps every sample exactly
    placed = clock.place(0, 50, source_times)
    np.testing.assert_allclose(placed.times, source_times, atol=1e-9)
    assert clock.time_of(7) == pytest.approx(placed.times[7])
    with pytest.raises(ValueError, match="50 samples need 50 observation times"):
        clock.place(50, 50, source_times[:3])


def stalled_reader(seconds_stalled: float, drain_speed: float, numbered: bool):
    """A reader that stops for ``seconds_stalled`` at 10 s (nothing arrives), then drains the backlog at
    ``drain_speed`` times real time: every sample arrives, late, none is missing."""
    clock = StreamClock(RATE_HZ, numbered=numbered)
    times, gaps, t0 = [], [], 100.0
    resumed, stalled_from = t0 + 10.0 + seconds_stalled, int(10.0 * RATE_HZ)
    for first in range(0, int(40 * RATE_HZ), BLOCK):
        taken = t0 + (first + BLOCK - 1) / RATE_HZ
        arrival = taken + 0.001
        if first + BLOCK > stalled_from:
            arrival = max(arrival, resumed + (first + BLOCK - stalled_from) / (RATE_HZ * drain_speed))
        placed = clock.place(first, BLOCK, arrival)
        times.append(placed.times)
        gaps += [placed.gap] if placed.gap else []
    return np.concatenate(times), gaps


def test_a_stalled_reader_draining_its_backlog_is_late_not_missing():
    for numbered in (True, False):  # a device counter, or samples counted on arrival (CSV)
        times, gaps = stalled_reader(seconds_stalled=3.7, drain_speed=1.5, numbered=numbered)
        assert gaps == [], numbered
        steps = np.diff(times)
        assert steps.min() > 0
        np.testing.assert_allclose(steps, 1 / RATE_HZ, rtol=0.005)
        truth = 100.0 + np.arange(len(times)) / RATE_HZ
        assert np.abs(times - truth)[-int(5 * RATE_HZ) :].max() < 1.5e-3  # back on time (+1 ms transport)
