"""Evaluation that tells the truth: a model's metrics on a dataset beside the chance level (the majority
class's rate) and yardsticks trained on the model's own training data and scored on the same examples."""

from typing import Any

import numpy as np

from neuroshell.training.datasets import TEST, TRAIN, Dataset
from neuroshell.training.errors import TrainingError
from neuroshell.training.metrics import classification_metrics, roc_auc

# Classical pipelines tried as the yardstick, for two classes and for more.
YARDSTICKS = {2: ("csp-lda", "ts-lr", "xdawn-lda"), 3: ("ts-lr", "xdawn-lda")}


def evaluated_part(dataset: Dataset) -> tuple[np.ndarray, str]:
    """The examples evaluated: the test split, or every example when the dataset has none."""
    if np.any(dataset.split == TEST):
        return dataset.split == TEST, "test"
    return np.ones(len(dataset.y), bool), "all"


def evaluate(model, dataset: Dataset, device: str = "cpu") -> dict[str, Any]:
    """Metrics of ``model`` (a TrainedModel or ClassicalModel) on the dataset's test split (all of it when it
    has none): accuracy, balanced accuracy, ROC-AUC, per-class precision and recall, the confusion matrix,
    ``chance`` (the majority class's rate among the examples) and ``n_examples``."""
    if dataset.classes != model.classes:
        raise TrainingError(f"model {model.name} knows classes {model.classes}, the dataset has {dataset.classes}")
    if dataset.X.shape[1] != model.recipe["n_channels"]:
        raise TrainingError(
            f"model {model.name} takes {model.recipe['n_channels']} channels, dataset {dataset.name} has "
            f"{dataset.X.shape[1]}"
        )
    chosen, split = evaluated_part(dataset)
    probabilities = model.classify(dataset.X[chosen], device)
    y = dataset.y[chosen]
    metrics = classification_metrics(y, probabilities.argmax(axis=1), len(dataset.classes))
    metrics["roc_auc"] = roc_auc(y, probabilities)
    metrics["chance"] = float(np.bincount(y, minlength=len(dataset.classes)).max() / max(1, len(y)))
    metrics["n_examples"] = int(chosen.sum())
    metrics["split"] = split
    return metrics


def yardsticks(reference: Dataset, dataset: Dataset, steps: int, seed: int = 0) -> dict[str, float]:
    """Balanced accuracy on ``dataset``'s evaluated examples of the logistic baseline (``logistic``) and of
    the best classical pipeline (``best_classical``, named in ``best_classical_kind``), each trained on the
    training split of ``reference`` (the model's training data). Classical pipelines are tried only on
    epochs of a recording."""
    from neuroshell.training.trainer import LogisticBaseline

    chosen, _ = evaluated_part(dataset)
    X, y = dataset.X[chosen], dataset.y[chosen]
    n_classes = len(dataset.classes)

    def balanced(predicted: np.ndarray) -> float:
        return classification_metrics(y, predicted, n_classes)["balanced_accuracy"]

    result = {"logistic": balanced(LogisticBaseline.fit(reference, steps, seed).predict(X))}
    if reference.recipe.get("kind") != "epochs" or not np.any(reference.split == TRAIN):
        return result
    from neuroshell.training.classical import fit_classical

    scores = {}
    for kind in YARDSTICKS[min(n_classes, 3)]:
        try:
            fitted = fit_classical(reference, kind, kind, seed)
        except TrainingError:
            continue  # a pipeline this data cannot take (too few examples, a missing library)
        scores[kind] = balanced(fitted.classify(X).argmax(axis=1))
    if scores:
        best = max(scores, key=scores.get)
        result.update(best_classical=scores[best], best_classical_kind=best)
    return result
