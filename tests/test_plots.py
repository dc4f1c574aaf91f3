"""Every plot verb renders a real PNG from small real files; bad input gives one-line errors."""

import time

import matplotlib.image as mpimg
import numpy as np
import pytest

from neuroshell.storage.layout import StreamSpec
from tests.helpers import helmet_recording


@pytest.fixture
def workspace(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session.execute(f"set plot.dir {tmp_path / 'plots'}")
    session.execute("set plot.show off")
    path = helmet_recording(tmp_path / "rec.h5", seconds=30, channels=16, rate_hz=500.0, seed=2, gap=(8.0, 8.4))
    return session, path


def written(session) -> str:
    line = session.ui.lines[-1]
    assert line.startswith("wrote "), session.ui.errors
    return line[len("wrote ") :].split(" (")[0]


def check_png(path: str, width: int, height: int) -> None:
    image = mpimg.imread(path)
    assert image.shape[:2] == (height, width), image.shape
    assert image[..., :3].std() > 0.05  # not blank: something was drawn


def test_stream_plots(workspace):
    session, path = workspace
    assert session.execute(f"plot traces {path}:/streams/meg --channels 0:8 --from 5s --to 12s")
    assert session.ui.lines[-1].endswith(" (8 of 16 channels: +8 more, use --channels)")  # what was left out
    check_png(written(session), 1200, 430)  # 0.35 in per channel + 1.5 in, at 100 dpi
    assert session.execute(f"plot psd {path}:/streams/meg")
    check_png(written(session), 1000, 600)
    assert session.execute(f"plot evoked {path}:/streams/meg --markers stim/* --window -100ms:400ms")
    check_png(written(session), 1200, 1060)


def test_file_names_never_overwrite(workspace, tmp_path):
    session, path = workspace
    session.execute(f"plot psd {path}:/streams/meg")
    session.execute(f"plot psd {path}:/streams/meg")
    session.execute("set plot.format svg")
    session.execute(f"plot psd {path}:/streams/meg")
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["psd-rec-meg-2.png", "psd-rec-meg.png", "psd-rec-meg.svg"]
    assert (tmp_path / "plots" / "psd-rec-meg.svg").read_text().lstrip().startswith("<?xml")


def test_an_hour_of_306_channels_plots_from_its_overview(session, tmp_path):
    """An hour-long file laid out as the Recorder writes it. Its samples are left unwritten (HDF5 reads
    unallocated chunks as zeros), so the test does not write 4.4 GB; the overview holds real values, and the
    plot must draw those (how fast: bench/plot.py)."""
    import h5py

    from neuroshell.storage.layout import OVERVIEW_BLOCK, create_file, create_stream

    session.execute(f"set plot.dir {tmp_path}")
    session.execute("set plot.show off")
    path = tmp_path / "hour.h5"
    n, channels = 3_600_000, 306
    with create_file(path, time.monotonic) as handle:
        group = create_stream(handle, StreamSpec("meg", [f"MEG{c:03d}" for c in range(channels)], 1000.0))
        group["data"].resize((n, channels))
        group["time"].resize((n,))
        group["time"][:] = np.arange(n) / 1000
        blocks = n // OVERVIEW_BLOCK
        noise = np.random.default_rng(0).normal(size=(blocks, channels)).astype("f4")
        for name, sign in (("overview_min", -1), ("overview_max", 1)):
            group[name].resize((blocks, channels))
            group[name][:] = sign * (2 + np.abs(noise))
        group["overview_time"].resize((blocks,))
        group["overview_time"][:] = np.arange(blocks) * OVERVIEW_BLOCK / 1000
    assert path.stat().st_size < 200e6
    with h5py.File(path) as f:
        assert f["streams/meg/data"].shape == (n, channels)
    assert session.execute(f"plot traces {path}:/streams/meg")
    check_png(written(session), 1200, 710)
    from neuroshell.storage.files import open_file
    from neuroshell.storage.plots import MAX_POINTS, envelope

    handle = open_file(path)
    times, low, high = envelope(handle.stream("meg"), list(range(16)), 0.0, n / 1000)
    handle.close()
    assert len(times) <= MAX_POINTS and times[-1] > 3500
    assert np.all(low <= -2) and np.all(high >= 2)  # the overview's values, not the (zero) samples


def test_simulation_network_and_model_plots(workspace):
    session, path = workspace
    session.execute("net example cuba --n 500")
    assert session.execute(f"simulate 200ms --to {path} --run small")
    assert session.execute(f"plot raster {path}:/simulations/small")
    check_png(written(session), 1200, 700)
    assert session.execute(f"plot rates {path}:/simulations/small")
    check_png(written(session), 1200, 500)
    assert session.execute("plot graph")
    check_png(written(session), 900, 700)
    from neuroshell.neuron.plots import plot_graph

    texts = {t.get_text() for t in plot_graph(session.network, "cuba").axes[0].texts}
    assert {"p=0.16\n1.62mV", "p=0.16\n-9mV"} <= texts  # weights in the units they were typed in
    assert session.execute(f"dataset epochs {path}:/streams/meg --name ep"), session.ui.errors
    assert session.execute("train ep --epochs 3 --steps 5 --hidden 16 --name tiny"), session.ui.errors
    assert session.execute("plot training tiny")
    check_png(written(session), 1100, 450)
    assert session.execute("plot confusion tiny")
    check_png(written(session), 720, 620)


def test_bad_plot_input(workspace):
    session, path = workspace
    assert not session.execute(f"plot traces {path}:/streams/eeg")
    assert "has no stream 'eeg' (did you mean meg?) (streams: meg)" in session.ui.errors[-1]
    assert not session.execute(f"plot raster {path}:/streams/meg")
    assert "is not under /simulations/: give FILE:/simulations/NAME" in session.ui.errors[-1]
    assert not session.execute(f"plot psd {path}:/simulations/none")
    assert "is not under /streams/: give FILE:/streams/NAME" in session.ui.errors[-1]
    assert not session.execute("plot training nobody")
    assert "no model 'nobody'" in session.ui.errors[-1]
    assert not session.execute("plot graph")
    assert "no network to draw" in session.ui.errors[-1]
    assert not session.execute(f"plot traces {path}:/streams/meg --from 30s --to 40s")
    assert "--from 30s is past the end of meg (29.998 s long)" in session.ui.errors[-1]


def test_typed_markers_and_a_device_markers_look_different(workspace):
    from neuroshell.storage.files import open_file
    from neuroshell.storage.plots import plot_traces

    _, path = workspace
    file = open_file(path)
    try:
        markers = (np.array([1.0, 2.0, 3.0]), ["stim/left", "typed/x", "stim/tone"], ["sim", "prompt", "sim"])
        figure = plot_traces(file.stream("meg"), [0, 1], 0.0, 5.0, markers, "markers")
    finally:
        file.close()
    drawn = {c.get_label(): c for c in figure.axes[0].collections if c.get_label().startswith("markers")}
    assert set(drawn) == {"markers from a device", "markers typed"}
    assert len(drawn["markers typed"].get_segments()) == 1 and len(drawn["markers from a device"].get_segments()) == 2
    assert drawn["markers typed"].get_linestyle() != drawn["markers from a device"].get_linestyle()
