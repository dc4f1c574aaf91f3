"""Cross-validation of a model kind on one dataset: stratified folds, or one fold per run of a pooled
dataset; each fold trains afresh on the rest and is scored by ``evaluation.evaluate``."""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from neuroshell.training.datasets import TEST, TRAIN, Dataset, stratified_split
from neuroshell.training.errors import TrainingError
from neuroshell.training.evaluation import evaluate


def fold_splits(dataset: Dataset, folds: int, by_run: bool, seed: int) -> list[np.ndarray]:
    """One boolean mask (n_examples,) of the test examples per fold."""
    from sklearn.model_selection import StratifiedKFold

    if by_run:
        runs = np.unique(dataset.runs)
        if len(runs) < 2:
            raise TrainingError(f"dataset {dataset.name} has one run: --by-run needs a pooled dataset")
        return [dataset.runs == run for run in runs]
    smallest = int(np.bincount(dataset.y).min())
    if folds > smallest:
        raise TrainingError(f"--folds {folds}: the smallest class of {dataset.name} has {smallest} examples")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    masks = []
    for _, test in splitter.split(np.zeros(len(dataset.y)), dataset.y):
        mask = np.zeros(len(dataset.y), bool)
        mask[test] = True
        masks.append(mask)
    return masks


def fold_dataset(dataset: Dataset, test: np.ndarray, validation: float, seed: int) -> Dataset:
    """The dataset with ``test`` as its test split and the rest split into train and ``validation``
    (stratified); the scaler fitted again on the new training split."""
    split = np.full(len(dataset.y), TEST, np.int8)
    split[~test] = stratified_split(dataset.y[~test], (1 - validation, validation, 0.0), seed)
    if not np.any(split == TRAIN):
        raise TrainingError("a fold left no training examples")
    return dataclasses.replace(dataset, split=split, scaler_mean=None, scaler_std=None)


def cross_validate(
    dataset: Dataset,
    fit: Callable[[Dataset], Any],
    folds: int,
    by_run: bool,
    validation: float,
    seed: int,
    on_fold: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """``fit(fold dataset) -> model`` on each fold; the metrics of each model on its fold's test examples."""
    results = []
    for number, test in enumerate(fold_splits(dataset, folds, by_run, seed), start=1):
        fold = fold_dataset(dataset, test, validation, seed)
        results.append(evaluate(fit(fold), fold))
        if on_fold is not None:
            on_fold(number)
    return results
