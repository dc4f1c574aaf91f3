"""The HDF5 layer: file layout, chunked appends from any thread, crash safety, lazy browsing."""
