"""Recorded lab data as input to a model: a stream's channels, resampled to the time step and scaled
into currents."""

import numpy as np

from neuroshell.neuron.description import StreamInput
from neuroshell.storage.errors import StorageError


def stream_currents(spec: StreamInput, dt_s: float, n_steps: int) -> np.ndarray:
    """(n_steps, n_channels) currents in A from ``spec`` (its ``file``, ``stream``, ``channels``, ``scale_a``),
    on the simulation's grid of ``n_steps`` steps of ``dt_s`` seconds.

    Each channel is standardised (zero mean, unit variance over the used span) and scaled by
    ``scale_a``, so neuron i of the population receives channel ``i % n_channels``. The stream is
    resampled onto the simulation's time grid from its first sample; past its end the input is zero.
    """
    from neuroshell.storage.files import open_file

    handle = open_file(spec.file)
    try:
        view = handle.stream(spec.stream)
        span = view.time_span_s
        if span is None:
            raise StorageError(f"{spec.file}:/streams/{spec.stream} holds no samples to drive the network")
        data, times = view.between(span[0], span[0] + n_steps * dt_s + 1.0)
        channels = list(spec.channels or range(data.shape[1]))
        data = np.asarray(data[:, channels], dtype=np.float64)
    finally:
        handle.close()
    grid = times[0] + np.arange(n_steps) * dt_s
    table = np.zeros((n_steps, len(channels)))
    inside = grid <= times[-1]
    for c in range(len(channels)):
        table[inside, c] = np.interp(grid[inside], times, data[:, c])
    spread = table[inside].std(axis=0)
    spread[spread == 0] = 1.0
    table[inside] = (table[inside] - table[inside].mean(axis=0)) / spread
    return table * spec.scale_a
