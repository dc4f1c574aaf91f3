"""Serial devices through pyserial: the neuroshell frame protocol, CSV lines, and OpenBCI Cyton packets."""

import numpy as np

from neuroshell.devices.base import Device, DeviceError, DeviceLost
from neuroshell.devices.dejitter import StreamClock
from neuroshell.devices.protocols import CYTON_RATE_HZ, CYTON_START, CYTON_STOP, PROTOCOLS, SampleFrame
from neuroshell.storage.spec import StreamSpec

FIRST_DATA_TIMEOUT_S = 3.0


class SerialDevice(Device):
    """Reads a serial port (or pseudo-terminal) and decodes one of the protocols in ``PROTOCOLS``.

    Samples are timed on the session clock from the device's sample counter (or their count, for CSV)
    through a dejittering ``StreamClock``, or from arrival when no rate was given (``rate_hz`` 0: irregular).
    Samples keep the protocol's own type; the Cyton's counts carry their microvolt scale in the spec.
    """

    source = "serial"

    def __init__(
        self,
        name: str,
        port: str,
        clock,
        *,
        protocol: str = "neuroshell",
        baudrate: int = 115200,
        n_channels: int | None = None,
        rate_hz: float | None = None,
        spec: StreamSpec | None = None,
    ) -> None:
        super().__init__(name, clock)
        if protocol not in PROTOCOLS:
            raise DeviceError(f"unknown serial protocol '{protocol}' (known: {', '.join(PROTOCOLS)})")
        self.port_name = port
        self.protocol = protocol
        self.baudrate = baudrate
        self.parser = PROTOCOLS[protocol]() if protocol != "csv" else PROTOCOLS[protocol](n_channels)
        self.wanted_channels = n_channels
        self.rate_hz = CYTON_RATE_HZ if protocol == "cyton" else (rate_hz or 0.0)
        self.spec = spec
        self.port = None
        # CSV lines carry no counter: their samples are numbered as they arrive
        numbered = protocol != "csv"
        self.stream_clock = StreamClock(self.rate_hz, numbered=numbered) if self.rate_hz else None
        self.next_index = 0  # samples since (re)connecting, counting gaps
        self.expected_counter: int | None = None
        self.pending: list[tuple] = []

    def _connect(self) -> None:
        import serial

        try:
            self.port = serial.Serial(self.port_name, self.baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as error:
            raise DeviceLost(f"cannot open serial port {self.port_name}: {_reason(error)}") from None
        self.parser.reset()
        if self.stream_clock is not None:
            self.stream_clock.reset()
        self.next_index, self.expected_counter = 0, None
        if self.protocol == "cyton":
            self.port.write(CYTON_START)
        if self.spec is None:
            self.spec = self._discover_spec()

    def _discover_spec(self) -> StreamSpec:
        """Read until the first samples arrive, to learn the channel count (kept for the first read)."""
        deadline = self.clock() + FIRST_DATA_TIMEOUT_S
        while self.clock() < deadline:
            arrival_chunk = self._read_bytes()
            self.pending += [(event, self.clock()) for event in self.parser.feed(arrival_chunk)]
            if any(isinstance(event, SampleFrame) for event, _ in self.pending):
                break
        else:
            self._disconnect()
            raise DeviceError(
                f"no {self.protocol} data from {self.port_name} within {FIRST_DATA_TIMEOUT_S:g} s: "
                "check the port, --baud and --protocol"
            )
        channels = self.parser.n_channels
        if self.wanted_channels is not None and channels != self.wanted_channels:
            self._disconnect()
            raise DeviceError(
                f"{self.port_name} sends {channels} channels, not {self.wanted_channels}: check --channels"
            )
        units = "uV" if self.protocol == "cyton" else "unknown"
        return StreamSpec(
            self.name,
            [f"ch{c:03d}" for c in range(channels)],
            self.rate_hz,
            [units] * channels,
            dtype=self.parser.sample_dtype,
            source="serial",
            info={"port": self.port_name, "protocol": self.protocol, "baudrate": self.baudrate},
            scale=getattr(self.parser, "scale", 1.0),
        )

    def _read_bytes(self) -> bytes:
        import serial

        try:
            # A large blocking read would lose what it gathered if the port vanished mid-read.
            return self.port.read(max(1, self.port.in_waiting))
        except (serial.SerialException, OSError, TypeError, AttributeError) as error:
            raise DeviceLost(f"serial port {self.port_name} failed: {_reason(error)}") from None

    def _read(self) -> None:
        if self.pending:
            events, self.pending = self.pending, []
        else:
            chunk = self._read_bytes()
            if not chunk:
                return
            arrival = self.clock()
            events = [(event, arrival) for event in self.parser.feed(chunk)]
            self.corrupt_frames = self.parser.corrupt
        for event, arrival in events:
            if isinstance(event, SampleFrame):
                self._samples(event.counter, event.values, arrival)
            else:
                self._marker(event.counter, event.label)

    def _samples(self, counter: int | None, values: np.ndarray, arrival: float) -> None:
        n = len(values)
        missing = 0
        if counter is not None and self.expected_counter is not None:
            modulus = self.parser.modulus
            jump = (counter - self.expected_counter) % modulus
            if 0 < jump < modulus // 2:
                missing = jump
            elif jump:
                self.stream_clock.reset()  # the device restarted its counter
        if counter is not None:
            self.expected_counter = (counter + n) % self.parser.modulus
        if self.stream_clock is None:
            self._deliver_samples(values, self._irregular_times(np.full(n, arrival)))
            return
        first = self.next_index + missing
        placed = self.stream_clock.place(first, n, arrival)
        self.next_index = first + n
        if missing and placed.gap is None:
            lost = (self.stream_clock.time_of(first - missing), self.stream_clock.time_of(first - 1))
            self._deliver_gap(*lost, missing_samples=missing)
        self._deliver_samples(values, placed.times, placed.gap)

    def _marker(self, counter: int, label: str) -> None:
        clock = self.stream_clock
        if clock is None or clock.time_of(0) is None or self.expected_counter is None:
            self._deliver_marker(self.clock(), label)
            return
        modulus = self.parser.modulus
        delta = (counter - self.expected_counter + modulus // 2) % modulus - modulus // 2
        self._deliver_marker(clock.time_of(self.next_index + delta), label)

    def _disconnect(self) -> None:
        if self.port is None:
            return
        try:
            if self.protocol == "cyton" and self.port.is_open:
                self.port.write(CYTON_STOP)
        except Exception:
            pass
        try:
            self.port.close()
        finally:
            self.port = None


def _reason(error: Exception) -> str:
    text = str(error)
    if "Errno 2" in text or "No such file" in text:
        return "no such port"
    return text.split(": ", 1)[-1] if text.startswith("[Errno") else text
