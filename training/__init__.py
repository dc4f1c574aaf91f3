"""Datasets from recordings and simulations, snntorch models, training and evaluation."""
