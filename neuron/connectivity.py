"""Connection rules built straight into CSR arrays (row = source neuron, column = target), in numba.

Every builder takes a seed and is reproducible; none loops over synapses in Python.
"""

import numba
import numpy as np

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
UNIT_53 = 2.0**-53


@numba.njit(inline="always")
def _splitmix64(state):
    """Advance a SplitMix64 state; returns (new state, 64 random bits). Several times faster than numba's
    Mersenne Twister, which dominated building millions of synapses."""
    state = state + GOLDEN_GAMMA
    z = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@numba.njit(inline="always")
def _seeded(seed):
    """A generator state from a seed, mixed so that neighbouring seeds give unrelated streams."""
    return _splitmix64(np.uint64(seed))[1]


@numba.njit(inline="always")
def _uniform_open_closed(bits):
    """A float in (0, 1] from 64 random bits (never 0, so its logarithm is finite)."""
    return (float(bits >> np.uint64(11)) + 1.0) * UNIT_53


@numba.njit(cache=True, nogil=True)
def _probability_csr(n_source: int, n_target: int, p: float, seed: int):
    """Each pair independently with probability p, by geometric skipping (O(number of synapses)); the
    targets of a row come out in ascending order."""
    state = _seeded(seed)
    indptr = np.zeros(n_source + 1, dtype=np.int64)
    expected = n_source * n_target * p
    capacity = int(expected + 10.0 * np.sqrt(expected) + 1024)
    indices = np.empty(capacity, dtype=np.int32)
    count = 0
    if p <= 0.0:
        return indptr, indices[:0]
    inverse_log_q = 1.0 / np.log(1.0 - p) if p < 1.0 else 0.0
    for i in range(n_source):
        j = -1
        while True:
            state, bits = _splitmix64(state)
            # The gap to the next chosen target is geometric: floor(log(u) / log(1 - p)) non-chosen ones.
            j += 1 + int(np.log(_uniform_open_closed(bits)) * inverse_log_q)
            if j >= n_target:
                break
            if count == capacity:
                grown = np.empty(capacity * 2, dtype=np.int32)
                grown[:capacity] = indices
                indices = grown
                capacity *= 2
            indices[count] = j
            count += 1
        indptr[i + 1] = count
    return indptr, indices[:count]


@numba.njit(cache=True, nogil=True)
def _indegree_csr(n_source: int, n_target: int, k: int, seed: int, indices):
    """For every target, k distinct sources drawn uniformly (Floyd's algorithm), gathered into CSR by
    source with a counting sort into ``indices`` (n_target * k), so each row's targets come out in
    ascending order."""
    state = _seeded(seed)
    sources = np.empty(n_target * k, dtype=np.int32)
    chosen = np.empty(k, dtype=np.int64)
    taken = np.zeros(n_source, dtype=np.bool_)
    for j in range(n_target):
        for m, r in enumerate(range(n_source - k, n_source)):
            state, bits = _splitmix64(state)
            candidate = min(int(_uniform_open_closed(bits) * (r + 1)), r)
            chosen[m] = r if taken[candidate] else candidate
            taken[chosen[m]] = True
        for m in range(k):
            sources[j * k + m] = chosen[m]
            taken[chosen[m]] = False
    indptr = np.zeros(n_source + 1, dtype=np.int64)
    for s in sources:
        indptr[s + 1] += 1
    for i in range(n_source):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    for position in range(sources.shape[0]):
        s = sources[position]
        indices[fill[s]] = position // k
        fill[s] += 1
    return indptr


def synapse_count(rule: str, value: float, n_source: int, n_target: int) -> int | None:
    """How many synapses a rule makes, where that is known before drawing them (None for "p")."""
    counts = {"indegree": n_target * int(value), "one2one": n_source, "all": n_source * n_target}
    return counts.get(rule)


def build_csr(
    rule: str, value: float, n_source: int, n_target: int, seed: int, indices: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr of length n_source + 1, target indices) for one projection. ``indices`` (int32, of
    ``synapse_count`` length; not for "p"), where given, receives the targets in place of a new array: a
    network's projections then share one array without a copy (at 250 M synapses the copy was 2 s,
    most of it the kernel handing out a fresh gigabyte)."""
    if rule == "p":
        if indices is not None:
            raise ValueError("a p rule's synapse count is known only once drawn: it takes no indices array")
        return _probability_csr(n_source, n_target, float(value), seed)
    if rule not in ("indegree", "one2one", "all"):
        raise ValueError(f"unknown rule {rule}")
    if rule == "indegree" and int(value) > n_source:
        raise ValueError(f"in-degree {int(value)} is larger than the source population ({n_source})")
    indices = np.empty(synapse_count(rule, value, n_source, n_target), np.int32) if indices is None else indices
    if rule == "indegree":
        return _indegree_csr(n_source, n_target, int(value), seed, indices), indices
    if rule == "one2one":
        indices[:] = np.arange(n_source, dtype=np.int32)
        return np.arange(n_source + 1, dtype=np.int64), indices
    indices.reshape(n_source, n_target)[:] = np.arange(n_target, dtype=np.int32)
    return np.arange(0, n_source * n_target + 1, n_target, dtype=np.int64), indices
