"""Poisson input drive: each neuron of a population gets a Poisson(``expected``) count of input spikes per
step, each adding ``weight`` to a synaptic channel. Three ways to draw the same law, by how many arrive:

- fewer than SPARSE per neuron and step (COBA's drive, 0.04): only the neurons that get some are drawn,
  the gap to the next one geometric and its count from the law given at least one, each block of BLOCK
  neurons from its own stream;
- up to TABLED (Brunel's drive, 2 per neuron and step): one uniform per neuron, and the count read from
  the distribution's table through a guide table of GUIDE buckets (Chen and Asau's indexed search, ~1
  comparison per draw);
- above that, numba's np.random.poisson, neuron after neuron (``poisson_serial``).
The first two hash their uniforms from a counter (SplitMix64) under a key drawn once per step from numba's
generator (``draw_key``): a neuron's draws depend on the key and its index alone, so the parts of a step
draw their neurons' shares at once (``poisson_share``) and get what one part would. numba's generator is
seeded per run, so a run's drive is a function of its seed."""

import numba
import numpy as np

from neuroshell.neuron.kernels.membrane import ALIGN

SPARSE = 0.3
TABLED = 30.0
GUIDE = 256
BLOCK = ALIGN  # neurons per stream of the sparse path: the parts of a step split on multiples of it
GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment and its two mixing multipliers
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
UNIT = 2.0**-53


@numba.njit(inline="always")
def poisson_into(x, base, n, expected, weight, scratch):
    """Add ``weight`` times a Poisson(``expected``) count to each of ``x[base:base + n]``; ``scratch``
    (float64, at least ``n`` long) holds the tabled path's uniforms."""
    if expected <= TABLED:
        poisson_share(x, base, 0, n, expected, weight, draw_key(), scratch)
    else:
        poisson_serial(x, base, n, expected, weight)


@numba.njit(inline="always")
def draw_key():
    """A step's key for ``poisson_share``, from numba's generator."""
    return np.uint64(np.random.randint(0, 1 << 62))


@numba.njit(inline="always")
def poisson_share(x, base, lo, hi, expected, weight, key, scratch):
    """The draws of neurons ``lo:hi`` (``lo`` a multiple of BLOCK) under ``key``, for ``expected`` up to
    TABLED; the tabled path keeps its uniforms in ``scratch[lo:hi]``."""
    if expected < SPARSE:
        _sparse(x, base, lo, hi, expected, weight, key)
    else:
        _tabled(x, base, lo, hi, expected, weight, key, scratch)


@numba.njit(inline="always")
def poisson_serial(x, base, n, expected, weight):
    for i in range(n):
        x[base + i] += np.random.poisson(expected) * weight


@numba.njit(inline="always")
def _sparse(x, base, lo, hi, expected, weight, key):
    none = np.exp(-expected)
    some = 1.0 - none
    gap = -1.0 / expected  # log(1 - u) * gap: how many neurons without an arrival come next (geometric)
    for block in range(lo // BLOCK, (hi + BLOCK - 1) // BLOCK):
        stream = _mix(key + np.uint64(block + 1) * GOLDEN)
        last = min(block * BLOCK + BLOCK, hi)
        i = block * BLOCK + int(np.log(1.0 - unit_uniform(stream, 0)) * gap)
        draw = 1
        while i < last:
            u, k = unit_uniform(stream, draw) * some, 1
            term = none * expected
            total = term
            while u > total and term > 0.0:
                k += 1
                term *= expected / k
                total += term
            x[base + i] += k * weight
            i += 1 + int(np.log(1.0 - unit_uniform(stream, draw + 1)) * gap)
            draw += 2


@numba.njit(inline="always")
def _tabled(x, base, lo, hi, expected, weight, key, scratch):
    cdf = cumulative(expected)
    guide = guide_table(cdf)
    uniforms = scratch[lo:hi]
    for i in range(hi - lo):  # vectorised
        uniforms[i] = unit_uniform(key, lo + i)
    for i in range(hi - lo):
        u = uniforms[i]
        k = guide[int(u * GUIDE)]
        while u > cdf[k]:
            k += 1
        x[base + lo + i] += k * weight


@numba.njit(inline="always")
def unit_uniform(key, i):
    """The ``i``-th output of the SplitMix64 stream that starts at ``key``, as a float in [0, 1)."""
    return np.float64(_mix(key + np.uint64(i + 1) * GOLDEN) >> np.uint64(11)) * UNIT


@numba.njit(inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def cumulative(expected):
    """P(count <= k) for k = 0, 1, ... until the tail is below 1e-17, then 1.0, so that a search for the
    first entry at or above a uniform in [0, 1) always ends."""
    cdf = np.ones(int(expected + 12.0 * np.sqrt(expected) + 40.0))
    term = np.exp(-expected)
    total = term
    cdf[0] = total
    for k in range(1, cdf.shape[0] - 1):
        term *= expected / k
        total += term
        cdf[k] = total
        if k > expected and term < 1e-17:
            break
    return cdf


@numba.njit(cache=True)
def guide_table(cdf):
    """For bucket b, the first k with cdf[k] >= b / GUIDE: a uniform in that bucket has its count there
    or just above."""
    guide = np.empty(GUIDE, dtype=np.int64)
    k = 0
    for b in range(GUIDE):
        while cdf[k] < b / GUIDE:
            k += 1
        guide[b] = k
    return guide
