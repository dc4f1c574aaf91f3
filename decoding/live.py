"""A decoder attached to a live device: what `decode start` makes and `decode stop` and the session's close
take down, through one teardown."""

from dataclasses import dataclass
from typing import Any

from neuroshell.decoding.online import OnlineDecoder
from neuroshell.decoding.outputs import DecoderOutputs


@dataclass
class LiveDecoding:
    """``decoder`` listens to ``device``'s signal (to its online filter when it has one, which hands it on
    when the chain changes); ``outputs`` take its predictions to the outlet, the recording and the screen."""

    device: Any  # devices.base.Device
    decoder: OnlineDecoder
    outputs: DecoderOutputs

    def attach(self, online_filter: Any | None) -> None:
        """Start listening: to ``online_filter`` (a ``filters.online.OnlineFilter``) if given, else the device."""
        (online_filter or self.device).add_listener(self.decoder)

    def stop(self, online_filter: Any | None) -> dict:
        """Stop listening (to the device and to its filter, wherever the decoder is now), close the outlet and
        return the outputs' figures (``DecoderOutputs.status``)."""
        self.device.remove_listener(self.decoder)
        if online_filter is not None:
            online_filter.remove_listener(self.decoder)
        figures = self.outputs.status()
        self.decoder.close()
        self.outputs.close()
        return figures
