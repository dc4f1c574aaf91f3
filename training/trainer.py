"""Training loop for the spiking decoders: seeded, early stopping on validation accuracy, best weights
kept, Ctrl-C keeps what was learned; and the logistic-regression baseline on the same features."""

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neuroshell.training.datasets import TEST, TRAIN, VALIDATION, Dataset, bin_epochs
from neuroshell.training.errors import TrainingError
from neuroshell.training.metrics import classification_metrics
from neuroshell.training.models import build_model


@dataclass
class TrainedModel:
    name: str
    recipe: dict[str, Any]
    classes: list[str]
    state: dict[str, torch.Tensor]
    scaler_mean: np.ndarray
    scaler_std: np.ndarray
    dataset: str
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    baseline: dict[str, float] = field(default_factory=dict)
    completed: bool = True
    samples_per_s: float = 0.0
    evaluation: dict[str, Any] = field(default_factory=dict)
    built: dict[str, nn.Module] = field(default_factory=dict, init=False, repr=False, compare=False)

    def module(self, device: str = "cpu") -> nn.Module:
        """The network with the learnt weights, in eval mode; built once per device (a live decoder asks
        for it at every decision)."""
        if device not in self.built:
            model = build_model(self.recipe)
            model.load_state_dict(self.state)
            self.built[device] = model.to(device).eval()
        return self.built[device]

    def predict(self, X: np.ndarray, device: str = "cpu") -> np.ndarray:
        """Class indices for standardised epochs X (n, channels, times)."""
        return self.scores(X, device).argmax(axis=1)

    def scores(self, X: np.ndarray, device: str = "cpu") -> np.ndarray:
        """The model's outputs (n, n_classes) for standardised epochs X (n, channels, times)."""
        features = torch.from_numpy(bin_epochs(X, self.recipe["steps"]).astype(np.float32)).to(device)
        model = self.module(device)
        with torch.inference_mode():
            return torch.cat([model(batch) for batch in features.split(256)]).float().cpu().numpy()

    def classify(self, epochs: np.ndarray, device: str = "cpu") -> np.ndarray:
        """Class probabilities (n, n_classes) of epochs as ``cut_epochs`` cuts them (n, channels, times, in
        the channels' units): standardised with the training split's scaler, binned, scored, softmax. The one
        path from an epoch to a decision, offline (``evaluate``) and online (``decode``)."""
        X = (epochs - self.scaler_mean[None, :, None]) / self.scaler_std[None, :, None]
        scores = self.scores(X.astype(np.float32), device)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


def pick_device(requested: str) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA GPU is available here (use cpu or auto)")
    return requested


def split_tensors(dataset: Dataset, steps: int, device: str) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    tensors = {}
    for which in (TRAIN, VALIDATION, TEST):
        X, y = dataset.standardized(which)
        tensors[which] = (torch.from_numpy(bin_epochs(X, steps)).to(device), torch.from_numpy(y).to(device))
    return tensors


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    return accuracy_and_loss(model, X, y)[0]


def accuracy_and_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of the model on (X, y); NaN for an empty split."""
    if len(y) == 0:
        return float("nan"), float("nan")
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(batch) for batch in X.split(512)])
    model.train()
    return float((logits.argmax(1) == y).float().mean()), float(nn.functional.cross_entropy(logits, y))


def train(
    dataset: Dataset,
    recipe: dict[str, Any],
    name: str,
    epochs: int = 30,
    lr: float = 2e-3,
    batch: int = 32,
    device: str = "cpu",
    seed: int = 0,
    patience: int = 8,
    weight_decay: float = 1e-2,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainedModel:
    """Train ``recipe`` on the dataset's training split; keep the weights of the best validation epoch (highest
    accuracy, then lowest loss); stop after ``patience`` epochs without a better one."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = split_tensors(dataset, recipe["steps"], device)
    X_train, y_train = data[TRAIN]
    model = build_model(recipe).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    best = {"score": (-1.0, -float("inf")), "epoch": 0, "state": copy.deepcopy(model.state_dict())}
    history, completed, seen, busy = [], True, 0, 0.0
    try:
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            order = torch.randperm(len(y_train), generator=generator).to(device)
            total_loss = 0.0
            for first in range(0, len(order), batch):
                chosen = order[first : first + batch]
                loss = loss_fn(model(X_train[chosen]), y_train[chosen])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total_loss += float(loss.detach()) * len(chosen)
            busy += time.perf_counter() - started
            seen += len(order)
            val_accuracy, val_loss = accuracy_and_loss(model, *data[VALIDATION])
            row = {
                "epoch": epoch,
                "loss": total_loss / len(order),
                "train_accuracy": accuracy(model, *data[TRAIN]),
                "val_accuracy": val_accuracy,
                "val_loss": val_loss,
            }
            history.append(row)
            # A small validation split ties on accuracy for many epochs: the lower loss breaks the tie.
            score = (val_accuracy, -val_loss)
            if score > best["score"]:
                best = {"score": score, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
            if on_epoch is not None:
                on_epoch(row)
            if epoch - best["epoch"] >= patience:
                break
    except KeyboardInterrupt:
        completed = False
    state = {key: value.detach().cpu().clone() for key, value in best["state"].items()}
    trained = TrainedModel(
        name,
        recipe,
        dataset.classes,
        state,
        dataset.scaler_mean,
        dataset.scaler_std,
        dataset.name,
        history,
        best["epoch"],
        completed=completed,
        samples_per_s=seen / busy if busy else 0.0,
    )
    trained.baseline = logistic_baseline(dataset, recipe["steps"], seed)
    return trained


def logistic_baseline(dataset: Dataset, steps: int, seed: int, l2: float = 1e-3) -> dict[str, float]:
    """Multinomial logistic regression on the same (binned, standardised) features; accuracy on the
    validation and test splits. A non-spiking yardstick for the SNN."""
    torch.manual_seed(seed)
    data = {which: (X.flatten(1), y) for which, (X, y) in split_tensors(dataset, steps, "cpu").items()}
    X_train, y_train = data[TRAIN]
    linear = nn.Linear(X_train.shape[1], len(dataset.classes))
    optimiser = torch.optim.LBFGS(linear.parameters(), lr=0.5, max_iter=200, line_search_fn="strong_wolfe")
    loss_fn = nn.CrossEntropyLoss()

    def closure():
        optimiser.zero_grad()
        loss = loss_fn(linear(X_train), y_train) + l2 * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.inference_mode():
        result = {}
        for which, label in ((VALIDATION, "val_accuracy"), (TEST, "test_accuracy")):
            X, y = data[which]
            result[label] = float((linear(X).argmax(1) == y).float().mean()) if len(y) else float("nan")
    return result


def evaluate(trained: TrainedModel, dataset: Dataset, device: str = "cpu") -> dict[str, Any]:
    """Metrics of the model on the dataset's test split (the whole dataset if it has no test split)."""
    if dataset.classes != trained.classes:
        raise TrainingError(f"model {trained.name} knows classes {trained.classes}, the dataset has {dataset.classes}")
    which = TEST if np.any(dataset.split == TEST) else None
    chosen = dataset.split == TEST if which is not None else np.ones(len(dataset.y), bool)
    predicted = trained.classify(dataset.X[chosen], device).argmax(axis=1)
    metrics = classification_metrics(dataset.y[chosen], predicted, len(dataset.classes))
    metrics["n_examples"] = int(chosen.sum())
    metrics["split"] = "test" if which is not None else "all"
    return metrics
