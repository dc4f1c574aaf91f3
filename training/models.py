"""Spiking decoders built from snntorch layers (Leaky neurons, surrogate gradients), and a logistic
regression baseline. A model is fully described by its JSON-able recipe.

Input to every model: (batch, n_channels, n_steps) float32; the SNN runs one step per time bin.
Encodings: ``direct`` (the standardised value is the input current at each step), ``rate`` (Bernoulli
spikes with probability sigmoid(value), snntorch.spikegen.rate) and ``latency`` (one spike per channel,
earlier for larger values, snntorch.spikegen.latency).
"""

from typing import Any

import torch
from torch import nn

from neuroshell.training.choices import ENCODINGS, MODEL_KINDS
from neuroshell.training.errors import TrainingError


def encode(x: torch.Tensor, encoding: str) -> torch.Tensor:
    """(batch, channels, steps) -> the same shape, encoded for the SNN."""
    if encoding == "direct":
        return x
    from snntorch import spikegen

    if encoding == "rate":
        return spikegen.rate(torch.sigmoid(x), time_var_input=True)
    if encoding == "latency":
        # One spike per channel over the window, from the channel's mean value: stronger spikes earlier.
        steps = x.shape[2]
        strength = torch.sigmoid(x.mean(dim=2))
        spikes = spikegen.latency(strength, num_steps=steps, normalize=True, linear=True, clip=True)
        return spikes.permute(1, 2, 0)
    raise TrainingError(f"unknown spike encoding '{encoding}' (encodings: {', '.join(ENCODINGS)})")


class SnnMlp(nn.Module):
    """Fully connected SNN: channels -> hidden Leaky layer -> class Leaky layer, one step per time bin."""

    def __init__(self, n_channels: int, n_classes: int, hidden: int = 128, beta: float = 0.9, slope: float = 25.0):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        grad = surrogate.fast_sigmoid(slope=slope)
        self.fc1 = nn.Linear(n_channels, hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=grad)
        self.fc2 = nn.Linear(hidden, n_classes)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (batch, channels, steps) -> logits (batch, classes): the output membrane averaged over steps."""
        mem1 = torch.zeros(x.shape[0], self.fc1.out_features, device=x.device)
        mem2 = torch.zeros(x.shape[0], self.fc2.out_features, device=x.device)
        # All steps through the first layer in one matrix product; unbind (not indexing) keeps the backward
        # pass to one gradient stack instead of a full-size zero tensor per step.
        drive = self.fc1(x.permute(2, 0, 1)).unbind(0)
        total = torch.zeros_like(mem2)
        for current in drive:
            spk1, mem1 = self.lif1(current, mem1)
            _, mem2 = self.lif2(self.fc2(spk1), mem2)
            total = total + mem2
        return total / x.shape[2]


class SnnConv(nn.Module):
    """1-D convolutional SNN: at each step, a convolution across the channel axis, Leaky neurons, then a
    fully connected Leaky class layer."""

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        filters: int = 8,
        kernel: int = 7,
        hidden: int = 64,
        beta: float = 0.9,
        slope: float = 25.0,
    ):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        grad = surrogate.fast_sigmoid(slope=slope)
        self.conv = nn.Conv1d(1, filters, kernel, padding=kernel // 2)
        self.pool = nn.AdaptiveAvgPool1d(max(1, min(32, n_channels)))
        self.lif1 = snn.Leaky(beta=beta, spike_grad=grad)
        self.fc = nn.Linear(filters * max(1, min(32, n_channels)), n_classes)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, steps = x.shape
        frames = x.permute(0, 2, 1).reshape(batch * steps, 1, channels)
        drive = self.pool(self.conv(frames)).reshape(batch, steps, -1)
        mem1 = torch.zeros(batch, drive.shape[2], device=x.device)
        mem2 = torch.zeros(batch, self.fc.out_features, device=x.device)
        total = torch.zeros_like(mem2)
        for current in drive.unbind(1):
            spk1, mem1 = self.lif1(current, mem1)
            _, mem2 = self.lif2(self.fc(spk1), mem2)
            total = total + mem2
        return total / steps


class Wrapped(nn.Module):
    """A model with its input encoding, so a checkpoint predicts from standardised data alone."""

    def __init__(self, recipe: dict[str, Any]):
        super().__init__()
        self.encoding = recipe["encoding"]
        kind = recipe["model"]
        common = {"n_channels": recipe["n_channels"], "n_classes": recipe["n_classes"], "beta": recipe["beta"]}
        if kind == "snn-mlp":
            self.net = SnnMlp(hidden=recipe["hidden"], **common)
        elif kind == "snn-conv":
            self.net = SnnConv(filters=recipe["filters"], hidden=recipe["hidden"], **common)
        else:
            raise TrainingError(f"unknown model kind '{kind}' (kinds: {', '.join(MODEL_KINDS)})")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(encode(x, self.encoding))


def build_model(recipe: dict[str, Any]) -> nn.Module:
    return Wrapped(recipe)


def default_recipe(model: str, n_channels: int, n_classes: int, steps: int, **overrides) -> dict[str, Any]:
    recipe = {
        "model": model,
        "n_channels": n_channels,
        "n_classes": n_classes,
        "steps": steps,
        "hidden": 128,
        "filters": 8,
        "beta": 0.9,
        "encoding": "direct",
    }
    recipe.update({k: v for k, v in overrides.items() if v is not None})
    return recipe
