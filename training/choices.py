"""What a training recipe may choose, declared once for the engine and the verbs (no torch import here, so
the prompt's start-up does not pay for it)."""

MODEL_KINDS = ("snn-mlp", "snn-conv")
ENCODINGS = ("direct", "rate", "latency")  # how epochs become spikes: as currents, Poisson rates, latencies
DEVICES = ("cpu", "cuda", "auto")
