"""Growing HDF5 datasets: every table of a neuroshell file only grows, as SWMR readers need."""

import h5py
import numpy as np


def append_rows(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    """Append along the first axis."""
    start = dataset.shape[0]
    dataset.resize(start + rows.shape[0], axis=0)
    dataset[start:] = rows
