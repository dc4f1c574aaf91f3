"""The numba kernels, split by role: ``step`` (the loop over time steps), ``membrane`` (neuron updates),
``propagate`` (spikes through projections), ``collect`` (spike gathering and regrouping)."""

from neuroshell.neuron.kernels.collect import group_by_population
from neuroshell.neuron.kernels.step import run_chunk, seed

__all__ = ["group_by_population", "run_chunk", "seed"]
