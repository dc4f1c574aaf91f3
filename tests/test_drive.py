"""The Poisson input drive: counts per neuron and step follow the Poisson law on each of its three paths
(sparse, tabled, numba's own), and the draws are independent between neurons and steps."""

import math

import numba
import numpy as np
import pytest

from neuroshell.neuron.kernels.drive import cumulative, guide_table, poisson_into
from neuroshell.neuron.kernels.step import seed

NEURONS, STEPS = 2000, 500


@numba.njit
def counts(expected, neurons, steps):
    out = np.zeros((steps, neurons), dtype=np.float32)
    scratch = np.empty(neurons)
    for t in range(steps):
        poisson_into(out[t], 0, neurons, expected, 1.0, scratch)
    return out


@pytest.mark.parametrize("expected", [0.04, 0.3, 2.0, 12.5, 45.0])
def test_counts_follow_the_poisson_law(expected):
    seed(7)
    drawn = counts(expected, NEURONS, STEPS).astype(np.int64)
    n = drawn.size
    assert drawn.mean() == pytest.approx(expected, abs=4 * math.sqrt(expected / n))
    assert drawn.var() == pytest.approx(expected, rel=0.02)
    # chi-square over the counts with an expected frequency of at least 50, the rest pooled in the tails
    pmf = np.array([math.exp(-expected + k * math.log(expected) - math.lgamma(k + 1)) for k in range(200)])
    kept = np.flatnonzero(pmf * n >= 50)
    observed = np.bincount(drawn.ravel(), minlength=200)[:200]
    low, high = kept[0], kept[-1]
    obs = np.concatenate([[observed[:low].sum()], observed[low : high + 1], [n - observed[: high + 1].sum()]])
    exp = n * np.concatenate([[pmf[:low].sum()], pmf[low : high + 1], [1 - pmf[: high + 1].sum()]])
    used = exp > 0
    chi2 = (((obs - exp) ** 2)[used] / exp[used]).sum()
    dof = used.sum() - 1
    assert chi2 < dof + 5 * math.sqrt(2 * dof), (chi2, dof)  # a 5-sigma bound: fails by chance ~never


@pytest.mark.parametrize("expected", [0.04, 2.0])
def test_draws_are_independent_between_neurons_and_steps(expected):
    seed(3)
    drawn = counts(expected, NEURONS, STEPS).astype(np.float64)
    centred = drawn - drawn.mean()
    limit = 5 / math.sqrt(drawn.size)  # five standard errors of a correlation between independent draws
    for a, b in ((centred[1:], centred[:-1]), (centred[:, 1:], centred[:, :-1])):
        assert abs((a * b).mean() / centred.var()) < limit


def test_the_same_seed_draws_the_same_drive():
    seed(11)
    first = counts(2.0, 100, 50)
    seed(11)
    assert np.array_equal(first, counts(2.0, 100, 50))
    seed(12)
    assert not np.array_equal(first, counts(2.0, 100, 50))


def test_the_guide_table_points_at_or_below_each_buckets_count():
    cdf = cumulative(2.0)
    assert cdf[-1] == 1.0 and np.all(np.diff(cdf) >= 0)
    guide = guide_table(cdf)
    for bucket, k in enumerate(guide):
        assert cdf[k] >= bucket / len(guide) and (k == 0 or cdf[k - 1] < bucket / len(guide))
