"""Connection rules built straight into CSR arrays (row = source neuron, column = target), in numba.

Every builder takes a seed and is reproducible; none loops over synapses in Python.
"""

import numba
import numpy as np


@numba.njit(cache=True)
def _probability_csr(n_source: int, n_target: int, p: float, seed: int):
    """Each pair independently with probability p, by geometric skipping (O(number of synapses))."""
    np.random.seed(seed)
    indptr = np.zeros(n_source + 1, dtype=np.int64)
    expected = n_source * n_target * p
    capacity = int(expected + 10.0 * np.sqrt(expected) + 1024)
    indices = np.empty(capacity, dtype=np.int32)
    count = 0
    if p <= 0.0:
        return indptr, indices[:0]
    log_q = np.log(1.0 - p) if p < 1.0 else -np.inf
    for i in range(n_source):
        j = -1
        while True:
            if p >= 1.0:
                j += 1
            else:
                j += 1 + int(np.floor(np.log(1.0 - np.random.random()) / log_q))
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


@numba.njit(cache=True)
def _indegree_pairs(n_source: int, n_target: int, k: int, seed: int):
    """For every target, k distinct sources drawn uniformly (Floyd's algorithm)."""
    np.random.seed(seed)
    sources = np.empty(n_target * k, dtype=np.int32)
    targets = np.empty(n_target * k, dtype=np.int32)
    chosen = np.empty(k, dtype=np.int64)
    for j in range(n_target):
        for m, r in enumerate(range(n_source - k, n_source)):
            candidate = np.random.randint(0, r + 1)
            seen = False
            for q in range(m):
                if chosen[q] == candidate:
                    seen = True
                    break
            chosen[m] = r if seen else candidate
        for q in range(k):
            sources[j * k + q] = chosen[q]
            targets[j * k + q] = j
    return sources, targets


def pairs_to_csr(n_source: int, sources: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(sources, kind="stable")
    counts = np.bincount(sources, minlength=n_source)
    indptr = np.zeros(n_source + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, targets[order].astype(np.int32)


def build_csr(rule: str, value: float, n_source: int, n_target: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr of length n_source + 1, target indices) for one projection."""
    if rule == "p":
        return _probability_csr(n_source, n_target, float(value), seed)
    if rule == "indegree":
        k = int(value)
        if k > n_source:
            raise ValueError(f"in-degree {k} is larger than the source population ({n_source})")
        return pairs_to_csr(n_source, *_indegree_pairs(n_source, n_target, k, seed))
    if rule == "one2one":
        return np.arange(n_source + 1, dtype=np.int64), np.arange(n_source, dtype=np.int32)
    if rule == "all":
        indptr = np.arange(0, n_source * n_target + 1, n_target, dtype=np.int64)
        return indptr, np.tile(np.arange(n_target, dtype=np.int32), n_source)
    raise ValueError(f"unknown rule {rule}")
