"""Parameter sweeps on Dask distributed: grids of network parameters or training settings, run on a local
cluster or an existing one, gathered into one HDF5 file. A plain library: nothing here imports the shell."""
