"""Recordings and spikes in and out of neuroshell files, through the field's own libraries (mne, pynwb,
pyxdf, h5py for SONATA's HDF5 layout). A plain library: nothing here imports the shell."""
