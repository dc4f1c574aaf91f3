"""Plastic synapses: a checked description (``description.Stdp``, kept on a projection as ``plasticity``),
apart from the kernel that runs it (``kernels.plasticity``) and the arrays it runs on (``plastic_arrays``).

STDP as in Brian2's STDP example and NEST's ``stdp_synapse``: ``taupre_s``, ``taupost_s`` (s), ``apre``,
``apost`` (trace jumps, fractions of ``wmax``), ``wmax`` (in the projection's weight unit), ``rule``
(``additive`` or ``multiplicative``), ``w_init`` (``fixed``: every weight starts at the projection's
weight; ``uniform``: drawn uniformly from [0, weight)). ``learned`` (after a run): the weights it ended
with and the seed whose connectivity they belong to.
"""

import numpy as np

from neuroshell.common.errors import UserError
from neuroshell.neuron.description import Stdp

RULES = ("additive", "multiplicative")
W_INITS = ("fixed", "uniform")


class PlasticityError(UserError):
    """A plasticity description that cannot be run."""


def stdp(
    weight: float,
    wmax: float,
    taupre_s: float = 20e-3,
    taupost_s: float = 20e-3,
    apre: float = 0.01,
    apost: float = -0.0105,
    rule: str = "additive",
    w_init: str = "fixed",
) -> Stdp:
    """A checked STDP description for a projection of initial weight ``weight``."""
    if rule not in RULES:
        raise PlasticityError(f"unknown STDP rule '{rule}' ({', '.join(RULES)})")
    if w_init not in W_INITS:
        raise PlasticityError(f"unknown initial weights '{w_init}' ({', '.join(W_INITS)})")
    if not wmax > 0:
        raise PlasticityError("STDP needs --wmax above 0 (weights are kept within [0, wmax])")
    if not 0 <= weight <= wmax:
        raise PlasticityError("a plastic projection's weight must lie within [0, wmax] (STDP clips it there)")
    if taupre_s <= 0 or taupost_s <= 0:
        raise PlasticityError("STDP time constants must be positive")
    return Stdp(float(taupre_s), float(taupost_s), float(apre), float(apost), float(wmax), rule, w_init)


def initial_weights(spec: Stdp, weight: float, n_synapses: int, seed: int, edge: str) -> np.ndarray:
    """The weights a plastic projection starts a run with (float32, CSR order)."""
    learned = spec.learned
    if learned is not None:
        if learned.seed != seed or len(learned.weights) != n_synapses:
            raise PlasticityError(
                f"{edge}: its learned weights belong to the connectivity of seed {learned.seed}: simulate with "
                f"--seed {learned.seed}, or connect it again to start afresh"
            )
        return np.asarray(learned.weights, dtype=np.float32)
    if spec.w_init == "uniform":
        return (np.random.default_rng(seed * 7919 + 104729).random(n_synapses) * weight).astype(np.float32)
    return np.full(n_synapses, weight, dtype=np.float32)
