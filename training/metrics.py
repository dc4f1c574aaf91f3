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


def roc_auc(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under the ROC curve (scikit-learn): of the second class's probability for two classes, one
    against the rest averaged over classes for more; NaN when a class is missing from ``y_true``."""
    from sklearn.metrics import roc_auc_score

    n_classes = probabilities.shape[1]
    if len(np.unique(y_true)) < n_classes:
        return float("nan")
    if n_classes == 2:
        return float(roc_auc_score(y_true, probabilities[:, 1]))
    return float(roc_auc_score(y_true, probabilities, multi_class="ovr", labels=list(range(n_classes))))
