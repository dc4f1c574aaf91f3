"""What producers hand the recorder's writer thread through its queue, one typed record each."""

from typing import NamedTuple

import numpy as np


class Block(NamedTuple):
    """Samples of ``stream``: ``data`` (n_samples, n_channels) in the stream's own type, ``times`` (n_samples,)
    in seconds on the session clock."""

    stream: str
    data: np.ndarray
    times: np.ndarray


class MarkerItem(NamedTuple):
    """A marker ``label`` at ``time_s`` (session clock), from ``source`` (prompt, script, a device)."""

    time_s: float
    label: str
    source: str


class ClockOffset(NamedTuple):
    """One LSL clock-offset measurement of ``stream``: ``offset_s`` measured at ``local_time_s``."""

    stream: str
    local_time_s: float
    offset_s: float


class ChainInForce(NamedTuple):
    """A stream's online filter chain ``chain_json`` was in force from ``time_s`` (session clock) on."""

    time_s: float
    chain_json: str


class FilterChange(NamedTuple):
    """``stream``'s online filter chain became ``chain_json`` at ``time_s``."""

    stream: str
    time_s: float
    chain_json: str
