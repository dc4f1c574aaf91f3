"""A simulated OPM-MEG helmet that needs no hardware, served over a real transport.

The signal (in fT) is realistic enough to test a pipeline end to end: per-channel 1/f background, a
10 Hz alpha rhythm strongest over occipital channels, a heartbeat artifact, 50 Hz line noise, and
stimulus markers of a few classes at random intervals, each followed by a class-specific evoked field,
so a decoder can learn the classes. A subject's head (``simhead``) stays from one session (seed) to the
next, moved a little; everything is seeded.

``SimHelmetServer`` plays the signal in real time into a pseudo-terminal (the neuroshell serial frame
protocol, read back through pyserial) or into pylsl outlets (data and markers) on this machine.
"""

import contextlib
import contextvars
import os
import select
import threading
import tty
import uuid

import numpy as np
from loguru import logger

from neuroshell.devices.base import DeviceError
from neuroshell.devices.protocols import encode_marker, encode_samples
from neuroshell.devices.simhead import (
    DEFAULT_SUBJECT,
    DIFFICULTY_EVOKED_FT,
    TRIAL_AMPLITUDE_SD,
    session_head,
    subject_head,
)
from neuroshell.storage.spec import StreamSpec

# Paul Kellet's economy 1/f ("pink") filter: three leaky integrators of white noise plus a direct term.
PINK_POLES = np.array([0.99765, 0.96300, 0.57000])
PINK_GAINS = np.array([0.0990460, 0.2965164, 1.0526913])
PINK_DIRECT = 0.1848
DEFAULT_CLASSES = ("left", "right", "tone")
EVOKED_S = 0.6
BLOCK_S = 0.02
WRITE_WAIT_S = 0.05


class HelmetSignal:
    """Generates the helmet's samples block by block, with the markers of the stimuli in each block.

    ``subject`` fixes the head (``simhead.subject_head``); ``seed`` draws the session: the head's small
    movement, noise, heartbeat, line phase and the order of stimuli. ``difficulty`` sets the evoked peak
    against the background (``simhead.DIFFICULTY_EVOKED_FT``); ``evoked_ft`` overrides it."""

    def __init__(
        self,
        n_channels: int = 306,
        rate_hz: float = 1000.0,
        seed: int = 0,
        classes: tuple[str, ...] = DEFAULT_CLASSES,
        stimulus_interval_s: tuple[float, float] = (0.8, 1.5),
        evoked_ft: float | None = None,
        subject: str = DEFAULT_SUBJECT,
        difficulty: str = "realistic",
    ) -> None:
        if difficulty not in DIFFICULTY_EVOKED_FT:
            raise DeviceError(f"unknown difficulty '{difficulty}' ({', '.join(DIFFICULTY_EVOKED_FT)})")
        self.n_channels, self.rate_hz, self.classes = n_channels, rate_hz, classes
        self.subject, self.seed, self.difficulty = subject, seed, difficulty
        self.rng = np.random.default_rng(seed)
        rng = self.rng
        self.head = session_head(subject_head(subject, n_channels, len(classes)), rng)
        self.sample_index = 0
        self.background_ft = self.head.background_ft
        self.pink_state = np.zeros((len(PINK_POLES), n_channels))
        self.alpha_ft = self.head.alpha_ft
        self.alpha_phase = rng.uniform(0, 2 * np.pi, n_channels)
        self.heart_ft = self.head.heart_ft
        self.heart_period_s = 60 / 68
        self.next_beat = int(rng.uniform(0.2, 0.8) * rate_hz)
        self.line_ft = self.head.line_ft
        self.line_phase = rng.uniform(0, 2 * np.pi, n_channels)
        self.interval_s = stimulus_interval_s
        self.next_stimulus = int(rng.uniform(*stimulus_interval_s) * rate_hz)
        self.evoked_ft = DIFFICULTY_EVOKED_FT[difficulty] if evoked_ft is None else evoked_ft
        self.templates = self._evoked_templates(self.evoked_ft)
        self.active: list[tuple[int, int, float]] = []  # (onset sample, class index, amplitude)
        self.beats: list[int] = []

    @property
    def spec_channels(self) -> list[str]:
        return [f"MEG{c + 1:03d}" for c in range(self.n_channels)]

    def _evoked_templates(self, peak_ft: float) -> np.ndarray:
        """(n_classes, n_samples, n_channels): an M100/M200-like response with the class's topography."""
        t = np.arange(int(EVOKED_S * self.rate_hz)) / self.rate_hz
        templates = []
        for latency, topography in zip(self.head.latencies_s, self.head.topographies(), strict=True):
            waveform = np.exp(-(((t - latency) / 0.025) ** 2)) - 0.6 * np.exp(-(((t - 2 * latency) / 0.05) ** 2))
            templates.append(peak_ft * waveform[:, None] * topography[None, :])
        return np.array(templates)

    def next_block(self, n: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """The next ``n`` samples (n, n_channels) float32 in fT, and markers as (sample index, label)."""
        start = self.sample_index
        index = start + np.arange(n)
        t = index / self.rate_hz
        data = self._pink(self.rng.standard_normal((n, self.n_channels))) * self.background_ft * 0.116
        envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 0.1 * t)[:, None]
        data += envelope * self.alpha_ft * np.sin(2 * np.pi * 10.0 * t[:, None] + self.alpha_phase)
        data += self.line_ft * np.sin(2 * np.pi * 50.0 * t[:, None] + self.line_phase)
        data += self._heartbeat(index)[:, None] * self.heart_ft
        markers = self._stimuli(start, n)
        self._add_evoked(data, start, n)
        data *= self.head.gains
        self.sample_index += n
        return data.astype(np.float32), markers

    def _pink(self, white: np.ndarray) -> np.ndarray:
        """Pink noise from white noise (n, channels), sample by sample, all channels at once."""
        pink = PINK_DIRECT * white
        state = self.pink_state
        for k in range(len(white)):
            state *= PINK_POLES[:, None]
            state += PINK_GAINS[:, None] * white[k]
            pink[k] += state.sum(axis=0)
        return pink

    def _heartbeat(self, index: np.ndarray) -> np.ndarray:
        while self.next_beat <= index[-1] + int(0.1 * self.rate_hz):
            self.beats.append(self.next_beat)
            jitter = self.rng.normal(1.0, 0.03)
            self.next_beat += int(self.heart_period_s * jitter * self.rate_hz)
        self.beats = [b for b in self.beats if b > index[0] - self.rate_hz]
        wave = np.zeros(len(index))
        for beat in self.beats:
            dt = (index - beat) / self.rate_hz
            wave += np.exp(-((dt / 0.012) ** 2)) - 0.3 * np.exp(-(((dt - 0.25) / 0.06) ** 2))
        return wave

    def _stimuli(self, start: int, n: int) -> list[tuple[int, str]]:
        markers = []
        while self.next_stimulus < start + n:
            k = int(self.rng.integers(len(self.classes)))
            amplitude = max(0.0, self.rng.normal(1.0, TRIAL_AMPLITUDE_SD))
            self.active.append((self.next_stimulus, k, amplitude))
            markers.append((self.next_stimulus, f"stim/{self.classes[k]}"))
            self.next_stimulus += int(self.rng.uniform(*self.interval_s) * self.rate_hz)
        return markers

    def _add_evoked(self, data: np.ndarray, start: int, n: int) -> None:
        length = self.templates.shape[1]
        for onset, k, amplitude in self.active:
            first, last = max(start, onset), min(start + n, onset + length)
            if first < last:
                data[first - start : last - start] += amplitude * self.templates[k, first - onset : last - onset]
        self.active = [item for item in self.active if item[0] + length > start + n]


class SimHelmetServer:
    """Plays a HelmetSignal in real time into a transport: ``serial`` (a pty) or ``lsl`` (two outlets)."""

    def __init__(self, signal: HelmetSignal, transport: str, clock, name: str = "sim-helmet") -> None:
        self.signal, self.transport, self.clock, self.name = signal, transport, clock, name
        self.source_id = f"neuroshell-sim-{uuid.uuid4().hex[:8]}"
        self.port_path: str | None = None
        self._stop = threading.Event()
        self._master = self._slave = None
        self._outlet = self._marker_outlet = None
        self.samples_sent = 0
        self.markers_sent: list[tuple[float, str]] = []  # (time on the session clock, label)
        if transport == "serial":
            self._master, self._slave = os.openpty()
            tty.setraw(self._slave)  # bytes pass untouched: no echo, no newline translation
            # A blocking write of a whole block into a full pty never returns once nobody reads it (a stop
            # then waited 2 s for this thread); non-blocking, it writes what fits.
            os.set_blocking(self._master, False)
            self.port_path = os.ttyname(self._slave)
        elif transport == "lsl":
            self._open_outlets()
        else:
            raise DeviceError(f"unknown transport '{transport}' (serial or lsl)")
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._serve,), name=f"sim-server:{name}", daemon=True
        )

    def _open_outlets(self) -> None:
        import pylsl

        signal = self.signal
        info = pylsl.StreamInfo(self.name, "MEG", signal.n_channels, signal.rate_hz, pylsl.cf_float32, self.source_id)
        channels = info.desc().append_child("channels")
        for label in signal.spec_channels:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", "fT")
            channel.append_child_value("type", "MEG")
        self._outlet = pylsl.StreamOutlet(info, chunk_size=int(BLOCK_S * signal.rate_hz))
        marker_info = pylsl.StreamInfo(
            f"{self.name}-markers", "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, self.source_id + "-markers"
        )
        self._marker_outlet = pylsl.StreamOutlet(marker_info)

    def spec(self, device_name: str) -> StreamSpec:
        signal = self.signal
        return StreamSpec(
            device_name,
            signal.spec_channels,
            signal.rate_hz,
            ["fT"] * signal.n_channels,
            source=f"sim/{self.transport}",
            info={
                "model": "neuroshell simulated OPM-MEG helmet",
                "classes": ",".join(signal.classes),
                "subject": signal.subject,
                "session_seed": str(signal.seed),
                "difficulty": signal.difficulty,
            },
        )

    def start(self) -> "SimHelmetServer":
        self._thread.start()
        return self

    def _serve(self) -> None:
        block = max(1, int(BLOCK_S * self.signal.rate_hz))
        start = self.clock()
        sent = 0
        try:
            while not self._stop.is_set():
                due = start + (sent + block) / self.signal.rate_hz
                wait = due - self.clock()
                if wait > 0 and self._stop.wait(wait):
                    break
                data, markers = self.signal.next_block(block)
                self._send(start, sent, data, markers)
                sent += block
                self.samples_sent = sent
        except OSError as error:
            if not self._stop.is_set():
                logger.warning("simulated helmet stopped: {}", error)

    def _send(self, start: float, first: int, data: np.ndarray, markers: list[tuple[int, str]]) -> None:
        rate = self.signal.rate_hz
        for index, label in markers:
            self.markers_sent.append((start + index / rate, label))
        if self.transport == "serial":
            payload = encode_samples(first, data) + b"".join(encode_marker(i, label) for i, label in markers)
            view = memoryview(payload)
            while view and not self._stop.is_set():
                # Wait for room in short steps: once nobody reads the port, a blocking write would never end.
                if select.select([], [self._master], [], WRITE_WAIT_S)[1]:
                    with contextlib.suppress(BlockingIOError):
                        view = view[os.write(self._master, view) :]
        else:
            self._outlet.push_chunk(data, start + (first + len(data) - 1) / rate)
            for index, label in markers:
                self._marker_outlet.push_sample([label], start + index / rate)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._outlet = self._marker_outlet = None


def connect_sim(
    name: str,
    clock,
    *,
    transport: str = "serial",
    n_channels: int = 306,
    rate_hz: float = 1000.0,
    seed: int = 0,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    interval_s: tuple[float, float] = (0.8, 1.5),
    subject: str = DEFAULT_SUBJECT,
    difficulty: str = "realistic",
):
    """Start a simulated helmet on a real transport and connect a device to it; returns the device.

    The device owns the server: closing the device stops the helmet.
    """
    signal = HelmetSignal(
        n_channels, rate_hz, seed, classes, stimulus_interval_s=interval_s, subject=subject, difficulty=difficulty
    )
    server = SimHelmetServer(signal, transport, clock).start()
    try:
        if transport == "serial":
            from neuroshell.devices.serial_device import SerialDevice

            device = SerialDevice(
                name, server.port_path, clock, protocol="neuroshell", rate_hz=rate_hz, spec=server.spec(name)
            )
        else:
            from neuroshell.devices.lsl_device import LslDevice, resolve

            data = resolve(5.0, source_id=server.source_id)
            markers = resolve(5.0, source_id=server.source_id + "-markers")
            if not data or not markers:
                raise DeviceError(
                    "the simulated helmet's LSL outlets did not appear on this machine: check LSLAPICFG "
                    "(ResolveScope) and that nothing blocks loopback"
                )
            device = LslDevice(name, clock, data[0], markers[0])
        device.source = f"sim/{transport}"
        device.on_close.append(server.stop)
        device.start()
    except BaseException:
        server.stop()
        raise
    return device
