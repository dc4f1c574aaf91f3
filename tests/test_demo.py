"""The demo script, as a user replays it, at reduced durations, through the real executable."""

import os
import subprocess
import sys
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]
EXECUTABLE = Path(sys.executable).with_name("neuroshell")
SHORT = ["seconds=8", "online=8", "epochs=3", "channels=32", "out=out"]


def test_demo_script_runs_end_to_end(tmp_path):
    result = subprocess.run(
        [str(EXECUTABLE), str(ROOT / "examples" / "demo.nsh"), *SHORT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ.copy(),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert plots == sorted(
        [
            "traces-demo-sim0.png",
            "psd-demo-sim0.png",
            "evoked-demo-sim0.png",
            "training-decoder.png",
            "confusion-decoder-evoked.png",
            "raster-simulation-cuba.png",
            "rates-simulation-cuba.png",
            "graph-cuba.png",
        ]
    )
    assert (out / "models" / "decoder.safetensors").is_file()
    with h5py.File(out / "demo.h5") as f:
        assert f["streams/sim0/data"].shape[1] == 32
        assert 7000 <= f["streams/sim0/data"].shape[0] <= 9000
        assert len(f["markers/time"]) >= 8
        assert set(f) == {"markers", "streams"}  # the raw recording holds only what was recorded
    with h5py.File(out / "demo-datasets.h5") as f:
        assert "evoked" in f["datasets"]
        assert f["models/decoder/evaluation/evoked"].attrs["accuracy"] >= 0
    with h5py.File(out / "simulation.h5") as f:
        assert "cuba" in f["simulations"]
    assert "Made in this session (13)" in result.stdout
    loop = next(line for line in result.stdout.splitlines() if line.startswith("stopped decoding sim0: "))
    assert "online accuracy " in loop and "(offline, on its test split: " in loop
    predictions = int(loop.split(": ")[1].split()[0])
    printed = [line for line in result.stdout.splitlines() if line.startswith("decoder: stim/")]
    assert predictions >= 1 and len(printed) == predictions  # a script prints each online prediction
    with h5py.File(out / "loop.h5") as f:
        labels = [label.decode() for label in f["markers/label"][:]]
        sources = [source.decode() for source in f["markers/source"][:]]
    decisions = [i for i, label in enumerate(labels) if label.startswith("decoder/stim/")]
    assert decisions and all(sources[i].startswith("decoder p=") for i in decisions)
    assert "logistic baseline" in result.stdout


def test_neuroshell_demo_finds_the_shipped_script():
    from neuroshell.cli.app import demo_script

    assert demo_script().read_text() == (ROOT / "examples" / "demo.nsh").read_text()
