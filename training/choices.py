"""What a training recipe may choose, declared once for the engine and the verbs (no torch import here, so
the prompt's start-up does not pay for it)."""

# Spiking decoders (snntorch) and what each suits.
SPIKING_KINDS = {
    "snn-mlp": "spiking MLP on the epoch averaged into --steps time bins: evoked responses (ERPs, ERFs)",
    "snn-conv": "spiking 1-D convolution across channels at each time bin: evoked responses with spatial structure",
    "snn-csp": "spiking MLP on the log-variance of --components CSP components (fitted on the training split), "
    "held as input currents for --steps steps: oscillations (motor imagery, mu/beta rhythms)",
    "snn-xdawn": "spiking MLP on xDAWN components (--components, 1 per class, fitted on the training split) "
    "averaged in 10 time windows, held as input currents for --steps steps: ERPs such as the P300, at low SNR",
}
# The field's standard pipelines (mne.decoding, pyriemann, scikit-learn) and what each suits.
CLASSICAL_KINDS = {
    "csp-lda": "CSP (4 components, log-variance) + LDA, as MNE's example: motor imagery, band power",
    "ts-lr": "covariances (OAS), Riemannian tangent space, logistic regression, as MOABB: oscillations",
    "mdm": "covariances (OAS), minimum distance to the Riemannian class means: oscillations, few examples",
    "xdawn-lda": "xDAWN spatial filters (2 per class) + shrinkage LDA on the waveform: ERPs such as the P300",
    "erpcov-ts": "ERP covariances (prototypes with 4 SVD components), tangent space, logistic regression: ERPs",
}
MODEL_KINDS = (*SPIKING_KINDS, *CLASSICAL_KINDS)
ENCODINGS = ("direct", "rate", "latency")  # how epochs become spikes: as currents, Poisson rates, latencies
DEVICES = ("cpu", "cuda", "auto")
