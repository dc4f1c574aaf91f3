"""Plots of datasets and models: evoked responses per marker class, training curves, confusion matrices."""

import numpy as np

from neuroshell.storage.figures import new_figure


def plot_evoked(X: np.ndarray, labels: list[str], window_s: tuple[float, float], unit: str, title: str):
    """Average response per class: every channel thin (butterfly) and the global field power thick.
    ``X`` is (n_epochs, n_channels, n_times)."""
    classes = sorted(set(labels))
    figure = new_figure(12, 3.2 * len(classes) + 1)
    t = np.linspace(window_s[0], window_s[1], X.shape[2], endpoint=False) * 1e3
    shared = None
    for k, name in enumerate(classes):
        chosen = np.array([label == name for label in labels])
        mean = X[chosen].mean(axis=0)
        axes = figure.add_subplot(len(classes), 1, k + 1, sharex=shared, sharey=shared)
        shared = shared or axes
        axes.plot(t, mean.T, color=f"C{k}", linewidth=0.4, alpha=0.5)
        axes.plot(t, mean.std(axis=0), color="k", linewidth=1.5, label="global field power")
        axes.axvline(0, color="0.3", linewidth=0.8)
        axes.set_title(f"{name}: {int(chosen.sum())} epochs", fontsize=10)
        axes.set_ylabel(unit)
        axes.legend(loc="upper right", fontsize=8)
    axes.set_xlabel("time from the marker (ms)")
    figure.suptitle(title)
    return figure


def plot_training(history: list[dict[str, float]], best_epoch: int, baseline: dict[str, float], title: str):
    figure = new_figure(11, 4.5)
    epochs = [row["epoch"] for row in history]
    loss_axes = figure.add_subplot(1, 2, 1)
    loss_axes.plot(epochs, [row["loss"] for row in history], marker="o", markersize=3, label="train")
    if all("val_loss" in row for row in history):  # histories saved by earlier versions lack it
        loss_axes.plot(epochs, [row["val_loss"] for row in history], marker="o", markersize=3, label="validation")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss (cross-entropy)")
    loss_axes.legend(fontsize=8)
    accuracy_axes = figure.add_subplot(1, 2, 2)
    accuracy_axes.plot(epochs, [row["train_accuracy"] for row in history], marker="o", markersize=3, label="train")
    accuracy_axes.plot(epochs, [row["val_accuracy"] for row in history], marker="o", markersize=3, label="validation")
    if "val_accuracy" in baseline:
        accuracy_axes.axhline(baseline["val_accuracy"], color="0.4", linestyle="--", label="logistic baseline (val)")
    accuracy_axes.axvline(best_epoch, color="C3", linewidth=0.8, label=f"kept: epoch {best_epoch}")
    accuracy_axes.set_ylim(0, 1.02)
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.set_ylabel("accuracy")
    accuracy_axes.legend(fontsize=8)
    figure.suptitle(title)
    return figure


def plot_confusion(confusion: np.ndarray, classes: list[str], title: str):
    figure = new_figure(6 + 0.4 * len(classes), 5 + 0.4 * len(classes))
    axes = figure.add_subplot()
    image = axes.imshow(confusion, cmap="Blues")
    for i in range(confusion.shape[0]):
        for j in range(confusion.shape[1]):
            colour = "white" if confusion[i, j] > confusion.max() / 2 else "black"
            axes.text(j, i, str(confusion[i, j]), ha="center", va="center", color=colour)
    axes.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, shrink=0.8)
    return figure
