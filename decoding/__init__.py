"""Online decoding: the model `train` made, applied to a live stream after each marker, with the very code
that cuts and classifies epochs offline. A plain library: nothing here imports the shell."""
