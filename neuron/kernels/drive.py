"""Poisson input drive: each neuron of a population gets a Poisson(``expected``) count of input spikes per
step, each adding ``weight`` to a synaptic channel. Three ways to draw the same law, by how many arrive:

- fewer than SPARSE per neuron and step (COBA's drive, 0.04): only the neurons that get some are drawn,
  the gap to the next one geometric and its count from the law given at least one;
- up to TABLED (Brunel's drive, 2 per neuron and step): one uniform per neuron, hashed from a counter
  (SplitMix64, so the loop has no generator state to carry), and the count read from the distribution's
  table through a guide table of GUIDE buckets (Chen and Asau's indexed search, ~1 comparison per draw);
- above that, numba's np.random.poisson.
Every path takes its randomness from numba's generator, seeded per run, so a run's drive is a function of
its seed."""

import numba
import numpy as np

SPARSE = 0.3
TABLED = 30.0
GUIDE = 256
GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment and its two mixing multipliers
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
UNIT = 2.0**-53


@numba.njit(inline="always")
def poisson_into(x, base, n, expected, weight, scratch):
    """Add ``weight`` times a Poisson(``expected``) count to each of ``x[base:base + n]``; ``scratch``
    (float64, at least ``n`` long) holds the tabled path's uniforms, drawn in a vectorised pass."""
    if expected < SPARSE:
        _sparse(x, base, n, expected, weight)
    elif expected <= TABLED:
        _tabled(x, base, n, expected, weight, scratch)
    else:
        for i in range(n):
            x[base + i] += np.random.poisson(expected) * weight


@numba.njit(inline="always")
def _sparse(x, base, n, expected, weight):
    none = np.exp(-expected)
    some = 1.0 - none
    i = np.random.geometric(some) - 1
    while i < n:
        u, k = np.random.random() * some, 1
        term = none * expected
        total = term
        while u > total and term > 0.0:
            k += 1
            term *= expected / k
            total += term
        x[base + i] += k * weight
        i += np.random.geometric(some)


@numba.njit(inline="always")
def _tabled(x, base, n, expected, weight, scratch):
    cdf = cumulative(expected)
    guide = guide_table(cdf)
    key = np.uint64(np.random.randint(0, 1 << 62))
    uniforms = scratch[:n]
    for i in range(n):  # vectorised
        uniforms[i] = unit_uniform(key, i)
    for i in range(n):
        u = uniforms[i]
        k = guide[int(u * GUIDE)]
        while u > cdf[k]:
            k += 1
        x[base + i] += k * weight


@numba.njit(inline="always")
def unit_uniform(key, i):
    """The ``i``-th output of the SplitMix64 stream that starts at ``key``, as a float in [0, 1)."""
    z = key + np.uint64(i + 1) * GOLDEN
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * UNIT


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
