"""Training loop for the spiking decoders: seeded, class-weighted, early stopping on validation balanced
accuracy, best weights kept, Ctrl-C keeps what was learned; and the logistic-regression baseline."""

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neuroshell.training.datasets import TRAIN, VALIDATION, Dataset, bin_epochs
from neuroshell.training.errors import TrainingError
from neuroshell.training.metrics import classification_metrics
from neuroshell.training.models import build_model, fit_front_end


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
        model = self.module(device)
        epochs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        with torch.inference_mode():
            return torch.cat([model(batch.to(device)) for batch in epochs.split(64)]).float().cpu().numpy()

    def classify(self, epochs: np.ndarray, device: str = "cpu") -> np.ndarray:
        """Class probabilities (n, n_classes) of epochs as ``cut_epochs`` cuts them (n, channels, times, in
        the channels' units): standardised with the training split's scaler, scored, softmax. The one path
        from an epoch to a decision, offline (``evaluate``) and online (``decode``)."""
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


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse class frequencies (n / (classes * count)): each class weighs as much in the loss."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def judge(model: nn.Module, features: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> dict[str, float]:
    """Accuracy, balanced accuracy and the class-weighted cross-entropy of the model's head on front-end
    ``features``; NaN for an empty split."""
    if len(y) == 0:
        return {"accuracy": float("nan"), "balanced_accuracy": float("nan"), "loss": float("nan")}
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model.head(batch) for batch in features.split(512)])
    model.train()
    metrics = classification_metrics(y.cpu().numpy(), logits.argmax(1).cpu().numpy(), len(weights))
    return {
        "accuracy": metrics["accuracy"],
        "balanced_accuracy": metrics["balanced_accuracy"],
        "loss": float(nn.functional.cross_entropy(logits, y, weight=weights.to(logits.device))),
    }


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
    """Train ``recipe`` on the dataset's training split with a class-weighted loss; keep the weights of the
    best validation epoch (highest balanced accuracy, then lowest loss) and stop after ``patience`` epochs
    without a better one. Without a validation split, every epoch runs and the last is kept."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    X_train, y_np = dataset.standardized(TRAIN)
    model = build_model(recipe)
    model.load_state_dict({**model.state_dict(), **fit_front_end(recipe, X_train, y_np)})
    model = model.to(device)
    features = {}
    with torch.inference_mode():
        for which in (TRAIN, VALIDATION):
            X, y = dataset.standardized(which)
            front = model.front(torch.from_numpy(X).to(device)) if len(y) else torch.zeros(0)
            features[which] = (front.clone(), torch.from_numpy(y).to(device))
    weights = class_weights(y_np, len(dataset.classes))
    X_train, y_train = features[TRAIN]
    validating = len(features[VALIDATION][1]) > 0
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss(weight=weights.to(device))
    best = {"score": (-1.0, -float("inf")), "epoch": 0, "state": copy.deepcopy(model.state_dict())}
    history, completed, seen, busy = [], True, 0, 0.0
    try:
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            order = torch.randperm(len(y_train), generator=generator).to(device)
            total_loss = 0.0
            for first in range(0, len(order), batch):
                chosen = order[first : first + batch]
                loss = loss_fn(model.head(X_train[chosen]), y_train[chosen])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total_loss += float(loss.detach()) * len(chosen)
            busy += time.perf_counter() - started
            seen += len(order)
            on_train = judge(model, *features[TRAIN], weights)
            on_validation = judge(model, *features[VALIDATION], weights)
            row = {
                "epoch": epoch,
                "loss": total_loss / len(order),
                "train_accuracy": on_train["accuracy"],
                "val_accuracy": on_validation["accuracy"],
                "val_balanced_accuracy": on_validation["balanced_accuracy"],
                "val_loss": on_validation["loss"],
            }
            history.append(row)
            # A small validation split ties on balanced accuracy for many epochs: the lower loss breaks the tie.
            score = (on_validation["balanced_accuracy"], -on_validation["loss"]) if validating else (epoch, 0.0)
            if score > best["score"]:
                best = {"score": score, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
            if on_epoch is not None:
                on_epoch(row)
            if validating and epoch - best["epoch"] >= patience:
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
    baseline = LogisticBaseline.fit(dataset, recipe.get("steps", 20), seed)
    trained.baseline = {"val_accuracy": baseline.accuracy(dataset, VALIDATION)}
    return trained


class LogisticBaseline:
    """Multinomial logistic regression (L2, LBFGS) on a dataset's training split, binned into ``steps`` time
    bins and standardised with that dataset's scaler: a non-spiking yardstick, scored on any dataset of the
    same channels and classes."""

    def __init__(self, linear: nn.Linear, steps: int, scaler_mean: np.ndarray, scaler_std: np.ndarray) -> None:
        self.linear, self.steps, self.scaler_mean, self.scaler_std = linear, steps, scaler_mean, scaler_std

    def features(self, epochs: np.ndarray) -> torch.Tensor:
        X = (epochs - self.scaler_mean[None, :, None]) / self.scaler_std[None, :, None]
        return torch.from_numpy(bin_epochs(X.astype(np.float32), self.steps).reshape(len(X), -1))

    @classmethod
    def fit(cls, dataset: Dataset, steps: int, seed: int, l2: float = 1e-3) -> "LogisticBaseline":
        torch.manual_seed(seed)
        chosen = dataset.split == TRAIN
        baseline = cls(None, steps, dataset.scaler_mean, dataset.scaler_std)
        X, y = baseline.features(dataset.X[chosen]), torch.from_numpy(dataset.y[chosen])
        linear = nn.Linear(X.shape[1], len(dataset.classes))
        optimiser = torch.optim.LBFGS(linear.parameters(), lr=0.5, max_iter=200, line_search_fn="strong_wolfe")
        loss_fn = nn.CrossEntropyLoss(weight=class_weights(dataset.y[chosen], len(dataset.classes)))

        def closure():
            optimiser.zero_grad()
            loss = loss_fn(linear(X), y) + l2 * linear.weight.pow(2).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        baseline.linear = linear
        return baseline

    def predict(self, epochs: np.ndarray) -> np.ndarray:
        """Class indices of epochs (n, channels, times) in the channels' units."""
        with torch.inference_mode():
            return self.linear(self.features(epochs)).argmax(1).numpy()

    def accuracy(self, dataset: Dataset, which: int) -> float:
        chosen = dataset.split == which
        return float(np.mean(self.predict(dataset.X[chosen]) == dataset.y[chosen])) if chosen.any() else float("nan")
