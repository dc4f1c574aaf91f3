"""The field's standard decoding pipelines, built from the field's own libraries (MNE-Python's decoding,
pyriemann, scikit-learn) with the parameters of MNE's and MOABB's examples, and stored without pickle
(skops, loading only the types listed here).

Every pipeline takes epochs (n, n_channels, n_times) in the channels' units (float64) and class indices.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroshell.training.datasets import TRAIN, VALIDATION, Dataset
from neuroshell.training.errors import TrainingError
from neuroshell.training.metrics import classification_metrics

# What a loaded pipeline may be made of: skops refuses any other type in a file.
TRUSTED_TYPES = [
    "mne.decoding.csp.CSP",
    "mne.decoding.transformer.UnsupervisedSpatialFilter",
    "mne.decoding.transformer.Vectorizer",
    "pyriemann.estimation.Covariances",
    "pyriemann.estimation.ERPCovariances",
    "pyriemann.estimation.XdawnCovariances",
    "pyriemann.spatialfilters.Xdawn",
    "pyriemann.tangentspace.TangentSpace",
    "pyriemann.classification.MDM",
    "sklearn.decomposition._pca.PCA",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
]


def quiet_mne():
    """MNE's log kept to errors while a pipeline is fitted (CSP reports ranks and covariances at info level)."""
    import mne

    return mne.utils.use_log_level("error")


# Above this many channels the Riemannian pipelines work in the principal subspace of this many dimensions:
# at 306 channels one eigendecomposition takes ~18 ms on a core (a decision needs several), pyriemann's OAS
# also inverts the 306 x 306 matrix (~70 ms), and MEG after SSS has rank ~70 anyway. The signals are projected
# before their covariances are estimated: a 306 x 64 product costs a decision ~1.5 ms where the 306 x 306
# covariance cost 3.4 ms (bench/closedloop.py). Sample covariances then suffice in the directions the data fills.
RIEMANN_DIMENSIONS = 64


def build_pipeline(kind: str, seed: int = 0, n_channels: int = 0):
    """An unfitted scikit-learn pipeline of the named kind (see ``training.choices.MODEL_KINDS``) for epochs
    of ``n_channels`` channels. Up to ``RIEMANN_DIMENSIONS`` channels (or with ``n_channels`` 0) each
    pipeline is MNE's or MOABB's own; above it, the Riemannian ones (ts-lr, mdm, erpcov-ts) project the
    signals to their first ``RIEMANN_DIMENSIONS`` principal components (MNE's ``UnsupervisedSpatialFilter``
    with scikit-learn's ``PCA``) and estimate sample covariances there."""
    from mne.decoding import CSP, Vectorizer
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances, ERPCovariances
    from pyriemann.spatialfilters import Xdawn
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    reduced = n_channels > RIEMANN_DIMENSIONS
    projection = [_principal_subspace(seed)] if reduced else []
    covariances = [*projection, Covariances("scm" if reduced else "oas")]
    if kind == "csp-lda":  # MNE's motor-imagery example
        return make_pipeline(CSP(n_components=4, reg=None, log=True, norm_trace=False), LinearDiscriminantAnalysis())
    if kind == "ts-lr":  # MOABB's TS+LR
        return make_pipeline(*covariances, TangentSpace(metric="riemann"), LogisticRegression(random_state=seed))
    if kind == "mdm":  # MOABB's MDM
        return make_pipeline(*covariances, MDM(metric="riemann"))
    if kind == "xdawn-lda":  # MOABB's xDAWN + LDA for ERPs
        return make_pipeline(
            Xdawn(nfilter=2, estimator="scm"), Vectorizer(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        )
    if kind == "erpcov-ts":  # MOABB's ERPCov(svd_n4) with a tangent space and logistic regression
        erp = ERPCovariances(estimator="scm" if reduced else "lwf", svd=4)
        return make_pipeline(*projection, erp, TangentSpace(metric="riemann"), LogisticRegression(random_state=seed))
    raise TrainingError(f"'{kind}' is not a classical pipeline")


def _principal_subspace(seed: int):
    from mne.decoding import UnsupervisedSpatialFilter
    from sklearn.decomposition import PCA

    return UnsupervisedSpatialFilter(PCA(RIEMANN_DIMENSIONS, svd_solver="full", random_state=seed), average=False)


@dataclass
class ClassicalModel:
    """A fitted pipeline and what it learnt from; decides as ``TrainedModel`` does (``classify``)."""

    name: str
    recipe: dict[str, Any]
    classes: list[str]
    pipeline: Any
    dataset: str
    baseline: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    completed: bool = True
    samples_per_s: float = 0.0
    validation_balanced_accuracy: float = float("nan")

    def classify(self, epochs: np.ndarray, device: str = "cpu") -> np.ndarray:
        """Class probabilities (n, n_classes) of epochs (n, channels, times) in the channels' units."""
        return self.pipeline.predict_proba(np.asarray(epochs, dtype=np.float64))


def fit_classical(dataset: Dataset, kind: str, name: str, seed: int = 0) -> ClassicalModel:
    """Fit the pipeline on the dataset's training split."""
    import time

    chosen = dataset.split == TRAIN
    if len(np.unique(dataset.y[chosen])) < len(dataset.classes):
        raise TrainingError(f"dataset {dataset.name}'s training split lacks a class: every class needs examples")
    pipeline = build_pipeline(kind, seed, dataset.X.shape[1])
    started = time.perf_counter()
    try:
        with quiet_mne():
            pipeline.fit(dataset.X[chosen].astype(np.float64), dataset.y[chosen])
    except (ValueError, np.linalg.LinAlgError) as error:
        raise TrainingError(f"{kind} cannot be fitted on {dataset.name}: {str(error).splitlines()[0]}") from None
    busy = time.perf_counter() - started
    recipe = {"model": kind, "n_channels": dataset.X.shape[1], "n_classes": len(dataset.classes), "seed": seed}
    model = ClassicalModel(
        name, recipe, list(dataset.classes), pipeline, dataset.name, samples_per_s=chosen.sum() / busy
    )
    validation = dataset.split == VALIDATION
    if validation.any():
        predicted = model.classify(dataset.X[validation]).argmax(axis=1)
        metrics = classification_metrics(dataset.y[validation], predicted, len(dataset.classes))
        model.validation_balanced_accuracy = metrics["balanced_accuracy"]
    return model


def save_classical(model: ClassicalModel, folder: Path, meta: dict) -> Path:
    """Write ``<folder>/<name>.skops`` (the fitted pipeline) and ``<name>.json`` (``meta``); returns the first."""
    import json

    import skops.io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.name}.skops"
    skops.io.dump(model.pipeline, path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return path


def load_pipeline(path: Path):
    """The pipeline in a ``.skops`` file, refused when it holds any type outside ``TRUSTED_TYPES``."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:
        raise TrainingError(f"{path} is not a readable skops file ({str(error).splitlines()[0]})") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if not foreign:
        pipeline = skops.io.load(path, trusted=untrusted)
        # skops trusts scikit-learn's own types by itself: a pipeline must also be made of ours only.
        steps = getattr(pipeline, "steps", None)
        named = [_qualified(pipeline)] + [_qualified(step) for _, step in steps or []]
        foreign = sorted(set(named) - set(TRUSTED_TYPES)) if steps else [_qualified(pipeline)]
    if foreign:
        raise TrainingError(f"refused to load {path}: it holds types neuroshell does not trust ({', '.join(foreign)})")
    return pipeline


def _qualified(thing) -> str:
    return f"{type(thing).__module__}.{type(thing).__qualname__}"
