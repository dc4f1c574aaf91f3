"""The simulated helmet's head: what belongs to a subject, and what changes from one session to the next.

A subject (drawn from its name) fixes the sensors' gains and noise levels, where the alpha rhythm is strong,
and each stimulus class's evoked response: a current dipole in a spherical head (its radial field at the
sensors is the topography) and a waveform with the class's latencies. A session (drawn from its seed) moves
the head in the helmet by a small rotation (``MOVEMENT_DEG``), changes the gains within ``GAIN_CHANGE`` and
the alpha power within ``ALPHA_POWER_CHANGE``; noise and the order of stimuli are the session's too.

Units: metres for positions, fT for amplitudes, seconds for times.
"""

import zlib
from dataclasses import dataclass

import numpy as np

SENSOR_RADIUS_M = 0.11
SOURCE_RADIUS_M = (0.06, 0.08)
MOVEMENT_DEG = (1.0, 4.0)  # a session's head rotation in the helmet, uniform in this range
GAIN_CHANGE = 0.05  # a session's channel gains within this fraction of the subject's
ALPHA_POWER_CHANGE = 0.20  # a session's alpha power within this fraction of the subject's
# Evoked peak (fT, at the strongest sensor) against a background of ~100-200 fT per channel; "realistic"
# leaves single-trial decoding of three classes between 0.75 and 0.95 (tests/test_simhelmet.py).
DIFFICULTY_EVOKED_FT = {"easy": 400.0, "realistic": 80.0, "hard": 35.0}
TRIAL_AMPLITUDE_SD = 0.3  # trial-to-trial variability of the evoked amplitude, as a fraction
DEFAULT_SUBJECT = "sub-01"


@dataclass
class Head:
    """A subject's head, or its placement in one session. Shapes: ``sensors_m`` (n_channels, 3) sensor
    positions; ``sources_m`` and ``moments`` (n_classes, 3) the evoked dipoles; ``latencies_s`` (n_classes,)
    the first peak's latency; ``gains`` (n_channels,) multiply everything a sensor measures;
    ``alpha_ft``, ``background_ft``, ``heart_ft``, ``line_ft`` (n_channels,) amplitudes (the heart's field and
    the room's line noise stay with the subject); ``rotation`` (3, 3) the head's placement."""

    sensors_m: np.ndarray
    sources_m: np.ndarray
    moments: np.ndarray
    latencies_s: np.ndarray
    gains: np.ndarray
    alpha_ft: np.ndarray
    background_ft: np.ndarray
    heart_ft: np.ndarray
    line_ft: np.ndarray
    rotation: np.ndarray

    def topographies(self) -> np.ndarray:
        """(n_classes, n_channels): each class's radial field at the sensors, the largest magnitude 1 (gains
        applied afterwards, as the sensors measure it)."""
        sources = self.sources_m @ self.rotation.T
        moments = self.moments @ self.rotation.T
        fields = np.array([_radial_field(self.sensors_m, s, q) for s, q in zip(sources, moments, strict=True)])
        return fields / np.abs(fields).max(axis=1, keepdims=True)


def subject_seed(name: str) -> int:
    """A seed stable across processes and machines (Python's ``hash`` of a str is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def subject_head(name: str, n_channels: int, n_classes: int) -> Head:
    """The head of subject ``name`` as it sits in the helmet the first time (no rotation)."""
    rng = np.random.default_rng(subject_seed(name))
    sensors = _helmet(n_channels)
    sources, moments = [], []
    for _ in range(n_classes):
        direction = _upper_direction(rng)
        sources.append(direction * rng.uniform(*SOURCE_RADIUS_M))
        tangent = np.cross(direction, rng.normal(size=3))
        moments.append(tangent / np.linalg.norm(tangent))
    occipital = sensors[:, 1] < -0.3 * SENSOR_RADIUS_M
    alpha = np.where(occipital, rng.uniform(250, 400, n_channels), rng.uniform(20, 60, n_channels))
    latencies = 0.09 + 0.02 * np.arange(n_classes) + rng.uniform(-0.01, 0.01, n_classes)
    return Head(
        sensors, np.array(sources), np.array(moments), latencies, rng.uniform(0.9, 1.1, n_channels), alpha,
        rng.uniform(80, 160, n_channels), rng.normal(0, 150, n_channels), rng.uniform(20, 80, n_channels), np.eye(3),
    )  # fmt: skip


def session_head(subject: Head, rng: np.random.Generator) -> Head:
    """The subject's head in one session: rotated by ``MOVEMENT_DEG`` about a random axis, gains within
    ``GAIN_CHANGE``, alpha power within ``ALPHA_POWER_CHANGE``."""
    axis = rng.normal(size=3)
    rotation = _rotation(axis / np.linalg.norm(axis), np.deg2rad(rng.uniform(*MOVEMENT_DEG)))
    n = len(subject.gains)
    gains = subject.gains * rng.uniform(1 - GAIN_CHANGE, 1 + GAIN_CHANGE, n)
    alpha = subject.alpha_ft * np.sqrt(rng.uniform(1 - ALPHA_POWER_CHANGE, 1 + ALPHA_POWER_CHANGE))
    return Head(
        subject.sensors_m, subject.sources_m, subject.moments, subject.latencies_s, gains, alpha,
        subject.background_ft, subject.heart_ft, subject.line_ft, rotation,
    )  # fmt: skip


def rotation_deg(rotation: np.ndarray) -> float:
    """The angle of a rotation matrix, in degrees."""
    return float(np.rad2deg(np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1.0, 1.0))))


def _radial_field(sensors: np.ndarray, source: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """The radial magnetic field of a current dipole in a spherical conductor (volume currents add nothing
    radially): proportional to (q x r0) . r / (|r - r0|^3 |r|)."""
    distance = np.linalg.norm(sensors - source, axis=1)
    return (sensors @ np.cross(moment, source)) / (distance**3 * np.linalg.norm(sensors, axis=1))


def _helmet(n_channels: int) -> np.ndarray:
    """Sensor positions spread evenly (a Fibonacci lattice) over the upper 60% of a sphere."""
    index = np.arange(n_channels) + 0.5
    z = 1 - 1.2 * index / n_channels
    azimuth = np.pi * (1 + 5**0.5) * index
    ring = np.sqrt(1 - z**2)
    return SENSOR_RADIUS_M * np.column_stack([ring * np.cos(azimuth), ring * np.sin(azimuth), z])


def _upper_direction(rng: np.random.Generator) -> np.ndarray:
    while True:
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        if direction[2] > 0.1:
            return direction


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' formula: the rotation by ``angle`` (radians) about the unit vector ``axis``."""
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
