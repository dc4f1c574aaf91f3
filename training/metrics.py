"""Classification metrics from predictions: plain numpy in, plain numbers out."""

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Accuracy, balanced accuracy, per-class precision and recall, and the confusion matrix
    (rows: true class, columns: predicted class)."""
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    diagonal = np.diag(confusion).astype(float)
    recall = np.divide(diagonal, support, out=np.zeros(n_classes), where=support > 0)
    precision = np.divide(diagonal, predicted, out=np.zeros(n_classes), where=predicted > 0)
    present = support > 0
    return {
        "accuracy": float(diagonal.sum() / max(1, confusion.sum())),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "support": support.tolist(),
        "confusion": confusion,
    }
