"""Training throughput of neuroshell's loop next to a plain snntorch tutorial-style loop, on the same model
(the snn-mlp architecture), the same data (epochs of the simulated helmet) and the same device, in one run.

The plain loop is the snntorch tutorial's: a DataLoader over a TensorDataset, and a network whose forward
pass applies its first layer step by step. neuroshell's loop batches from tensors already on the device
and applies the first layer to all time steps in one matrix product. Both train the same number of epochs
from the same initial weights; printed: training samples/s and held-out test accuracy.

Run: python bench/train.py [--seconds 300] [--epochs 15] [--threads 1] [--device cpu|cuda] [--repeats 3]
Target: neuroshell at least as fast as the plain loop, with the same accuracy.
"""

import argparse
import copy
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from neuroshell.devices.simhelmet import HelmetSignal
from neuroshell.training.datasets import TEST, TRAIN, bin_epochs, cut_epochs, make_dataset
from neuroshell.training.models import build_model, default_recipe
from neuroshell.training.trainer import train


def helmet_dataset(seconds: float, channels: int, rate: float = 500.0):
    signal = HelmetSignal(channels, rate, seed=11, stimulus_interval_s=(0.5, 0.9))
    blocks, markers = [], []
    for _ in range(int(seconds * 10)):
        data, found = signal.next_block(int(rate / 10))
        blocks.append(data)
        markers += found
    data = np.concatenate(blocks)
    times = np.arange(len(data)) / rate
    onsets = np.array([index / rate for index, _ in markers])
    X, labels, _, _ = cut_epochs(
        data,
        times,
        rate,
        onsets,
        [label for _, label in markers],
        ["stim/left", "stim/right", "stim/tone"],
        (-0.1, 0.5),
        np.zeros((0, 2)),
        (-0.1, 0.0),
    )
    return make_dataset("bench", X, labels, {}, seed=0)


class TutorialNet(nn.Module):
    """The snntorch tutorial's network: the same layers as snn-mlp, first layer applied step by step."""

    def __init__(self, reference: nn.Module):
        super().__init__()
        inner = copy.deepcopy(reference.net)
        self.fc1, self.lif1, self.fc2, self.lif2 = inner.fc1, inner.lif1, inner.fc2, inner.lif2

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        mem2_rec = []
        for step in range(x.shape[2]):
            cur1 = self.fc1(x[:, :, step])
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            _, mem2 = self.lif2(cur2, mem2)
            mem2_rec.append(mem2)
        return torch.stack(mem2_rec).mean(dim=0)


def tutorial_loop(model, X, y, epochs, lr, batch, device):
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=batch, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    model.to(device).train()
    seen, started = 0, time.perf_counter()
    for _ in range(epochs):
        for data, targets in loader:
            data, targets = data.to(device), targets.to(device)
            loss = loss_fn(model(data), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(targets)
    if device == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300.0, help="seconds of simulated recording")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each loop, alternating; medians count")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = helmet_dataset(args.seconds, args.channels)
    recipe = default_recipe("snn-mlp", args.channels, 3, args.steps, hidden=128)
    lr, batch = 2e-3, 32
    print(
        f"{len(dataset.y)} epochs of {args.channels} channels, {args.steps} steps, device {args.device}, "
        f"{args.threads} thread(s)"
    )

    X_train, y_train = dataset.standardized(TRAIN)
    X_test, y_test = dataset.standardized(TEST)
    ours_rates, plain_rates = [], []
    for _ in range(args.repeats):  # alternate the two loops; the median of each counts
        torch.manual_seed(0)
        ours = train(dataset, recipe, "ours", args.epochs, lr, batch, args.device, seed=0, patience=args.epochs + 1)
        ours_rates.append(ours.samples_per_s)
        torch.manual_seed(0)
        plain = TutorialNet(build_model(recipe))
        plain_rates.append(
            tutorial_loop(plain, bin_epochs(X_train, args.steps), y_train, args.epochs, lr, batch, args.device)
        )
    ours_accuracy = float(np.mean(ours.predict(X_test, args.device) == y_test))
    plain.eval()
    with torch.inference_mode():
        logits = plain(torch.from_numpy(bin_epochs(X_test, args.steps)).to(args.device))
    plain_accuracy = float((logits.argmax(1).cpu().numpy() == y_test).mean())
    plain_rate, ours_rate = float(np.median(plain_rates)), float(np.median(ours_rates))

    print(f"{'loop':28} {'samples/s':>10} {'test accuracy':>14}   (median of {args.repeats} alternating runs)")
    print(f"{'plain snntorch tutorial':28} {plain_rate:>10.0f} {plain_accuracy:>14.3f}")
    print(f"{'neuroshell train':28} {ours_rate:>10.0f} {ours_accuracy:>14.3f}")
    ratio = ours_rate / plain_rate
    verdict = "met" if ratio >= 1.0 and ours_accuracy >= plain_accuracy - 0.05 else "NOT met"
    print(f"neuroshell at {ratio:.2f}x the plain loop's throughput (target >= 1x, same accuracy): {verdict}")


if __name__ == "__main__":
    main()
