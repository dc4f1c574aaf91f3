"""A decoder on a live device: what `decode start` makes. It follows its device's signal through the device's
``filters.pipeline.LivePipeline``, which attaches and detaches it; ``finish`` closes what it holds."""

from dataclasses import dataclass
from typing import Any

from neuroshell.decoding.online import OnlineDecoder
from neuroshell.decoding.outputs import DecoderOutputs


@dataclass
class LiveDecoding:
    """``decoder`` hears ``device``'s signal (filtered when a chain runs on it); ``outputs`` take its
    predictions to the outlet, the recording and the screen."""

    device: Any  # devices.base.Device
    decoder: OnlineDecoder
    outputs: DecoderOutputs

    def finish(self) -> dict:
        """Close the outlet and give BLAS its threads back (the pipeline has detached the decoder first);
        returns the outputs' figures (``DecoderOutputs.status``)."""
        figures = self.outputs.status()
        self.decoder.close()
        self.outputs.close()
        return figures
