"""The field's pipelines and the spiking decoders through train, evaluate, crossval and decode, on real EEG
(the eegmmidb excerpt in tests/data): the same predictions as the libraries' own pipelines, saved models
that predict the same in a new session, the truth about chance and yardsticks, online equal to offline."""

import numpy as np
import pylsl
import pytest
import torch

from neuroshell.training.datasets import TEST, TRAIN
from tests.test_decoding_real import DATA, MI, runs  # noqa: F401 (the fixture)

torch.set_num_threads(1)


def library_pipeline(kind: str):
    """Each kind as a user of the libraries would write it from MNE's and MOABB's examples."""
    from mne.decoding import CSP, Vectorizer
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances, ERPCovariances
    from pyriemann.spatialfilters import Xdawn
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return {
        "csp-lda": lambda: make_pipeline(CSP(n_components=4, reg=None, log=True, norm_trace=False), LDA()),
        "ts-lr": lambda: make_pipeline(Covariances("oas"), TangentSpace(metric="riemann"), LogisticRegression()),
        "mdm": lambda: make_pipeline(Covariances("oas"), MDM(metric="riemann")),
        "xdawn-lda": lambda: make_pipeline(Xdawn(nfilter=2), Vectorizer(), LDA(solver="lsqr", shrinkage="auto")),
        "erpcov-ts": lambda: make_pipeline(
            ERPCovariances(estimator="lwf", svd=4), TangentSpace(metric="riemann"), LogisticRegression()
        ),
    }[kind]()


@pytest.fixture
def pooled(session, runs):  # noqa: F811
    assert session.execute(
        f"dataset epochs {runs[6]},{runs[10]} {MI} --bandpass 7Hz:30Hz --split 1,0,0 --test-runs 1 --name pool"
    )
    return session.datasets["pool"]


@pytest.mark.parametrize("kind", ["csp-lda", "ts-lr", "mdm", "xdawn-lda", "erpcov-ts"])
def test_each_pipeline_predicts_as_the_librarys_own(session, pooled, kind):
    import mne

    assert session.execute(f"train pool --model {kind} --name m"), session.ui.errors
    train, test = pooled.split == TRAIN, pooled.split == TEST
    reference = library_pipeline(kind)
    with mne.utils.use_log_level("error"):
        reference.fit(pooled.X[train].astype(np.float64), pooled.y[train])
    expected = reference.predict_proba(pooled.X[test].astype(np.float64))
    np.testing.assert_allclose(session.models["m"].classify(pooled.X[test]), expected, rtol=1e-7, atol=1e-9)
    assert session.execute("evaluate m pool")
    metrics = session.models["m"].evaluation["pool"]
    assert metrics["n_examples"] == 15 and metrics["accuracy"] == pytest.approx(
        np.mean(expected.argmax(axis=1) == pooled.y[test])
    )


@pytest.mark.parametrize("kind", ["ts-lr", "mdm", "erpcov-ts"])
def test_above_64_channels_riemannian_pipelines_work_in_the_principal_subspace_and_load_again(kind, tmp_path):
    """306-channel MEG: the signals projected to 64 principal components (MNE's UnsupervisedSpatialFilter with
    scikit-learn's PCA), sample covariances there, then the kind's own steps; saved and loaded, the same."""
    from mne.decoding import UnsupervisedSpatialFilter
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances, ERPCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neuroshell.training.classical import ClassicalModel, build_pipeline, load_pipeline, save_classical

    rng = np.random.default_rng(3)
    y = np.arange(40) % 2
    sources = rng.standard_normal((40, 90, 100)) * (1.0 + 0.5 * y[:, None, None] * (np.arange(90) < 3)[:, None])
    X = np.einsum("ck,nkt->nct", rng.standard_normal((100, 90)), sources)  # 100 channels of rank 90
    steps = {
        "ts-lr": [Covariances("scm"), TangentSpace(metric="riemann"), LogisticRegression()],
        "mdm": [Covariances("scm"), MDM(metric="riemann")],
        "erpcov-ts": [ERPCovariances(estimator="scm", svd=4), TangentSpace(metric="riemann"), LogisticRegression()],
    }[kind]
    pca = UnsupervisedSpatialFilter(PCA(64, svd_solver="full"), average=False)
    reference = make_pipeline(pca, *steps).fit(X[:30], y[:30])
    pipeline = build_pipeline(kind, 0, 100).fit(X[:30], y[:30])
    expected = reference.predict_proba(X[30:])
    np.testing.assert_allclose(pipeline.predict_proba(X[30:]), expected, rtol=1e-7, atol=1e-9)
    assert (expected.argmax(axis=1) == y[30:]).mean() >= 0.9  # the variance of 3 sources tells the classes
    saved = save_classical(ClassicalModel("big", {}, ["a", "b"], pipeline, "d"), tmp_path, {})
    np.testing.assert_array_equal(load_pipeline(saved).predict_proba(X[30:]), pipeline.predict_proba(X[30:]))


def test_a_saved_pipeline_predicts_the_same_in_a_new_session_and_foreign_types_are_refused(session, pooled, tmp_path):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    assert session.execute("train pool --model csp-lda --name csp")
    assert session.ui.lines[-1].endswith(f"saved {tmp_path / 'models' / 'csp.skops'}")
    other = Session(ui=RecordingUI(), home=session.home)
    try:
        assert other.execute(f"set models.dir {tmp_path / 'models'}")
        assert other.execute(f"evaluate csp {tmp_path}/r6-datasets.h5:/datasets/pool"), other.ui.errors
        np.testing.assert_array_equal(other.models["csp"].classify(pooled.X), session.models["csp"].classify(pooled.X))
    finally:
        other.close()
    import skops.io
    from sklearn.svm import SVC

    skops.io.dump(SVC().fit(np.eye(4), [0, 1, 0, 1]), tmp_path / "models" / "foreign.skops")
    (tmp_path / "models" / "foreign.json").write_text((tmp_path / "models" / "csp.json").read_text())
    assert not session.execute("evaluate foreign pool")
    assert "refused to load" in session.ui.errors[-1] and "sklearn.svm._classes.SVC" in session.ui.errors[-1]


def test_evaluate_prints_the_majority_rate_and_yardsticks_scored_on_the_evaluated_data(session, runs):  # noqa: F811
    from neuroshell.training.metrics import classification_metrics
    from neuroshell.training.trainer import LogisticBaseline

    assert session.execute(f"dataset epochs {runs[6]} --markers T0,T1 --window 0s:1s --split 0.7,0,0.3 --name mine")
    assert session.execute(f"dataset epochs {runs[10]} --markers T0,T1 --window 0s:1s --split 0,0,1 --name later")
    assert session.execute("train mine --model snn-mlp --epochs 4 --steps 8 --hidden 16 --name snn --seed 2")
    assert session.execute("evaluate snn later")
    later, mine = session.datasets["later"], session.datasets["mine"]
    majority = np.bincount(later.y).max() / len(later.y)
    assert majority > 0.6  # rest (T0) between cues outnumbers the cues: chance is not 1/2
    line = session.ui.lines[-1]
    assert f"chance {majority:.3f} (the majority class)" in line
    baseline = LogisticBaseline.fit(mine, 8, 2).predict(later.X)
    expected = classification_metrics(later.y, baseline, 2)["balanced_accuracy"]
    assert f"logistic {expected:.3f}" in line and "best classical (" in line
    assert session.models["snn"].evaluation["later"]["logistic"] == pytest.approx(expected)


def test_spiking_csp_decodes_a_later_run_and_crossval_tests_every_example_once(session, pooled):
    assert session.execute("train pool --model snn-csp --epochs 30 --name snn --seed 0"), session.ui.errors
    assert session.execute("evaluate snn pool")
    metrics = session.models["snn"].evaluation["pool"]
    assert metrics["balanced_accuracy"] >= 0.75, metrics  # run 10 was never seen; chance is 0.533
    assert session.execute("crossval pool --model csp-lda --by-run")
    table = session.ui.results[-2]
    assert len(table.rows) == 2 and session.ui.lines[-1].startswith("csp-lda on pool (leave one run out): accuracy")
    assert session.execute("crossval pool --model snn-csp --folds 3 --epochs 5")
    assert len(session.ui.results[-2].rows) == 3


def test_decode_start_with_a_pipeline_equals_evaluate_on_a_replay(session, runs, tmp_path):  # noqa: F811
    import edfio

    assert session.execute(f"dataset epochs {runs[6]} --markers T1=fists,T2=feet --window 0s:1s --name raw6")
    assert session.execute("train raw6 --model ts-lr --name tslr")
    piece = edfio.read_edf(DATA / "S001R10-motor.edf")
    piece.slice_between_seconds(0, 15)
    piece.write(tmp_path / "piece.edf")
    assert session.execute(f"import {tmp_path / 'piece.edf'} --to piece.h5")
    assert session.execute("connect replay piece.h5:/streams/piece --name rp")
    assert session.execute("decode start tslr"), session.ui.errors
    streams = pylsl.resolve_byprop("name", "neuroshell-decoder", 1, 5.0)
    inlet = pylsl.StreamInlet(streams[0])
    inlet.open_stream(5.0)
    assert session.execute("wait 15.5s")
    online = list(session.decoder.outputs.predictions)
    received, _ = inlet.pull_chunk(timeout=2.0, max_samples=100)
    inlet.close_stream()
    assert session.execute("decode stop")
    assert session.execute("dataset epochs piece.h5:/streams/piece --markers T1=fists,T2=feet --window 0s:1s "
                           "--split 0,0,1 --name piece"), session.ui.errors  # fmt: skip
    assert session.execute("evaluate tslr piece")
    offline = session.models["tslr"].classify(session.datasets["piece"].X)
    assert len(online) == len(offline) == 2, session.ui.errors  # T2 at 4.2 s and T1 at 12.5 s
    np.testing.assert_allclose(np.stack([p.probabilities for p in online]), offline, rtol=1e-9, atol=1e-12)
    assert [sample[0] for sample in received] == [p.label for p in online]
