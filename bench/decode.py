"""Decoding real EEG: neuroshell's verbs beside MNE-Python's own example on the same split.

Data: PhysioNet eegmmidb subject S001 (../shared/data/eegmmidb; ODC-By, see its README), runs 6 and 10
(imagined both fists vs both feet, 15 cues each, 64 EEG channels at 160 Hz). The EDF files are imported
with `import`, cut with `dataset epochs` (7-30 Hz zero-phase band-pass over the continuous data, 1-2 s after
the cue, as MNE's CSP example crops), and every decoder is trained with `train` on one run and scored with
`evaluate` on the other. MNE's reference is MNE's example code (raw.filter, Epochs, CSP + LDA) computed
here on the same split. A P300-like imbalanced set (the simulated helmet at low SNR, 1 target in 6) checks
that no decoder answers one class for everything.

Run: python bench/decode.py [--data ../shared/data/eegmmidb/S001]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parents[1] / "tests" / "lsl_api.cfg"))

from loguru import logger

from neuroshell.sessions import Session
from neuroshell.sessions.ui import PlainUI

logger.remove()  # the session's log goes to its file; the bench prints one table

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("csp-lda", "ts-lr", "mdm", "snn-csp", "snn-mlp")
ERP_KINDS = ("xdawn-lda", "erpcov-ts", "snn-xdawn", "snn-mlp")
SPLITS = {"run 6 -> run 10": (6, 10), "run 10 -> run 6": (10, 6)}
SEEDS = (0, 1, 2)


class Quiet(PlainUI):
    """The session's output kept, not printed: the bench prints one table."""

    def __init__(self) -> None:
        super().__init__()
        self.kept = []

    def show(self, result) -> None:
        self.kept.append(result)

    def error(self, text: str) -> None:
        raise SystemExit(f"bench/decode.py: a command failed: {text}")


def mne_example(data: Path, train_run: int, test_run: int) -> float:
    """MNE-Python's motor-imagery CSP example (7-30 Hz FIR, epochs cropped to 1-2 s, CSP(4) + LDA), trained
    on one run and scored on another."""
    import mne
    from mne.decoding import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    def epochs(run):
        raw = mne.io.read_raw_edf(data / f"S001R{run:02d}.edf", preload=True, verbose="error")
        raw.filter(7.0, 30.0, fir_design="firwin", skip_by_annotation="edge", verbose="error")
        events, ids = mne.events_from_annotations(raw, event_id=dict(T1=2, T2=3), verbose="error")
        cut = mne.Epochs(raw, events, ids, -1.0, 4.0, picks="eeg", baseline=None, preload=True, verbose="error")
        return cut.copy().crop(1.0, 2.0).get_data(copy=False), cut.events[:, -1] - 2

    X_train, y_train = epochs(train_run)
    X_test, y_test = epochs(test_run)
    with mne.utils.use_log_level("error"):
        pipeline = make_pipeline(
            CSP(n_components=4, reg=None, log=True, norm_trace=False), LinearDiscriminantAnalysis()
        )
        return float(pipeline.fit(X_train, y_train).score(X_test, y_test))


def run(session: Session, line: str):
    if not session.execute(line):
        raise SystemExit(f"bench/decode.py: failed: {line}")
    return session.ui.kept[-1]


def neuroshell_split(session: Session, files: dict[int, Path], train_run: int, test_run: int, name: str) -> dict:
    sources = f"{files[train_run]}:/streams/S001R{train_run:02d},{files[test_run]}:/streams/S001R{test_run:02d}"
    run(
        session,
        f"dataset epochs {sources} --markers T1=fists,T2=feet --window 1s:2s --bandpass 7Hz:30Hz --channels eeg "
        f"--split 1,0,0 --test-runs 1 --name {name}",
    )
    return {kind: train_and_evaluate(session, name, kind) for kind in KINDS}


def train_and_evaluate(session: Session, dataset: str, kind: str) -> tuple[dict, float, list[float]]:
    """Seed 0's metrics and training time, and the balanced accuracy of each seed (a spiking decoder's
    initial weights move a test set of a few dozen epochs by several hundredths: seeds 0-2 are shown)."""
    seeds = SEEDS if kind.startswith("snn-") else (0,)
    results = []
    for seed in seeds:
        model = f"{dataset}_{kind.replace('-', '_')}_{seed}"
        started = time.perf_counter()
        run(session, f"train {dataset} --model {kind} --name {model} --seed {seed}")
        seconds = time.perf_counter() - started
        run(session, f"evaluate {model} {dataset}")
        results.append((session.models[model].evaluation[dataset], seconds))
    return results[0][0], results[0][1], [metrics["balanced_accuracy"] for metrics, _ in results]


def helmet_p300(folder: Path, seconds: float) -> Path:
    """The simulated helmet at low SNR with one stimulus class in six (a P300-like imbalanced set)."""
    from neuroshell.devices.simhelmet import HelmetSignal
    from neuroshell.storage.recorder import Recorder
    from neuroshell.storage.spec import StreamSpec

    rate = 250.0
    classes = ("target", "other1", "other2", "other3", "other4", "other5")
    signal = HelmetSignal(32, rate, seed=11, classes=classes, stimulus_interval_s=(0.5, 0.8), evoked_ft=30.0)
    spec = StreamSpec("meg", signal.spec_channels, rate, ["fT"] * 32, source="sim")
    path = folder / "p300.h5"
    recorder = Recorder(path, [spec], clock=time.monotonic, overwrite=True)
    block = int(rate // 10)
    for _ in range(int(seconds * 10)):
        first = signal.sample_index
        data, markers = signal.next_block(block)
        recorder.put("meg", data, (first + np.arange(block)) / rate)
        for index, label in markers:
            recorder.mark(index / rate, label, "sim")
    recorder.stop()
    return path


def p300_scores(session: Session, path: Path) -> dict:
    run(
        session,
        f"dataset epochs {path}:/streams/meg --markers stim/target=target,stim/other*=other --window -100ms:600ms "
        "--baseline -100ms:0s --bandpass 1Hz:20Hz --split 0.6,0.15,0.25 --name p300",
    )
    return {kind: train_and_evaluate(session, "p300", kind) for kind in ERP_KINDS}


def row(label: str, kind: str, scored: tuple[dict, float, list[float]], reference: str) -> str:
    metrics, seconds, balanced = scored
    predicted = metrics["confusion"].sum(axis=0)
    one_class = " ONE CLASS ONLY" if (predicted > 0).sum() < 2 else ""
    seeds = f"{np.mean(balanced):.3f} ({min(balanced):.3f}-{max(balanced):.3f})" if len(balanced) > 1 else "-"
    return (
        f"| {label} | {kind} | {metrics['accuracy']:.3f} | {metrics['balanced_accuracy']:.3f} | {seeds} | "
        f"{metrics['roc_auc']:.3f} | {metrics['chance']:.3f} | {seconds:.1f} | {reference}{one_class} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "eegmmidb" / "S001")
    parser.add_argument("--p300-seconds", type=float, default=240.0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"bench/decode.py on {os.uname().nodename}, {time.strftime('%Y-%m-%d')}, one torch thread", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-decode-"))
    os.chdir(folder)
    session = Session(ui=Quiet(), home=folder)
    session.execute(f"set models.dir {folder / 'models'}")
    files = {}
    for number in (6, 10):
        files[number] = folder / f"S001R{number:02d}.h5"
        run(session, f"import {args.data / f'S001R{number:02d}.edf'} --to {files[number]}")
    print(
        "| split | decoder | accuracy | balanced acc. | bal. acc., seeds 0-2: mean (range) | ROC-AUC | chance | "
        "train s | MNE's example, same split |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, (train_run, test_run) in SPLITS.items():
        reference = mne_example(args.data, train_run, test_run)
        name = f"mi{train_run}"
        for kind, scored in neuroshell_split(session, files, train_run, test_run, name).items():
            print(row(label, kind, scored, f"{reference:.3f}"), flush=True)
    for kind, scored in p300_scores(session, helmet_p300(folder, args.p300_seconds)).items():
        print(row("sim helmet P300-like, 1 in 6", kind, scored, "-"), flush=True)
    session.close()


if __name__ == "__main__":
    sys.exit(main())
