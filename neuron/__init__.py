"""Spiking-network models: the network description (populations, projections), then the numba kernels."""
