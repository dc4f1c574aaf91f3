"""The live view in a real browser: Debian's Chromium, headless, driven by Playwright. On a machine without
a Chromium these tests are skipped, saying so (CI installs it: .ci/run)."""

import shutil
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

from neuroshell.devices.base import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: apt-get install chromium")


@pytest.fixture
def viewed(session):
    assert session.execute("connect sim --channels 8 --rate 500Hz --isi 300ms:500ms --seed 3")
    assert session.execute("view --no-browser"), session.ui.errors
    yield session
    session.execute("view stop")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_view_listens_on_loopback_only_and_refuses_requests_without_its_token(viewed):
    server = viewed.view.server
    assert viewed.ui.lines[-1].startswith(f"live view at http://127.0.0.1:{server.port}/?token=")
    assert _status(server.url) == 200
    assert _status(f"http://127.0.0.1:{server.port}/") == 403
    assert _status(f"http://127.0.0.1:{server.port}/?token=wrong") == 403
    listening = [c.laddr for c in __import__("psutil").Process().net_connections("tcp") if c.status == "LISTEN"]
    assert [a.ip for a in listening if a.port == server.port] == ["127.0.0.1"]
    other = socket.gethostbyname(socket.gethostname())
    if other != "127.0.0.1":
        with pytest.raises(OSError):
            socket.create_connection((other, server.port), timeout=2)
    assert ("view", f"127.0.0.1:{server.port}", "ok") in viewed.facts()  # the toolbar says so
    assert viewed.execute("view stop") and viewed.view is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2)


def test_the_feed_reduces_each_block_to_min_max_bins_exactly():
    from neuroshell.view.feed import BIN_S, DeviceFeed

    feed = DeviceFeed("d", 2, scale=np.array([1.0, 2.0]))
    times = np.arange(1000) / 1000.0 + 5.0  # 1 s at 1 kHz, from 5 s
    data = np.stack([np.sin(times * 7), np.arange(1000.0)], axis=1)
    for first in range(0, 1000, 37):  # blocks that do not line up with the bins
        feed.samples(None, data[first : first + 37], times[first : first + 37])
    envelope, done = feed.since(0)
    assert done == len(envelope.time_s) == 99  # the last bin is still open
    per_bin = round(BIN_S * 1000)
    np.testing.assert_allclose(envelope.low[:, 1], 2.0 * np.arange(0, 990, per_bin))
    np.testing.assert_allclose(
        envelope.high[:, 0], [np.sin(times[k : k + per_bin] * 7).max() for k in range(0, 990, per_bin)], rtol=1e-6
    )
    assert feed.since(done)[1] == done and len(feed.since(done)[0].time_s) == 0


@needs_chromium
def test_the_page_draws_the_helmet_a_typed_marker_a_prediction_and_a_raster(viewed, trained, tmp_path):
    from playwright.sync_api import sync_playwright

    session = viewed
    assert session.execute(f"record start {tmp_path / 'v.h5'}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(session.view.server.url)
        page.wait_for_selector(".bk-Column", timeout=20_000)
        assert wait_until(lambda: session.view.server.tabs == 1, 10)
        assert wait_until(lambda: "samples received" in _model(page, "status-sim0", "text"), 20)
        assert wait_until(lambda: len(_model(page, "traces-sim0", "data.x")) > 50, 10)  # bins reached the page
        first = page.screenshot()
        assert session.execute("mark hello-view")
        assert wait_until(lambda: "hello-view" in _model(page, "markers-sim0", "data.label"), 10)
        assert "recording to" in _model(page, "recording", "text") or "v.h5" in _model(page, "recording", "text")
        assert first != page.screenshot() and len(first) > 20_000  # drawn, and scrolling
        assert session.execute("decode start dec")
        assert wait_until(lambda: len(_model(page, "predictions", "data.x")) >= 1, 20)
        assert "running accuracy" in _model(page, "decoder", "text")
        assert session.execute("net example cuba --n 400") and session.execute("simulate 200ms")
        assert wait_until(lambda: len(_model(page, "spikes", "data.x")) == len(session.simulation.spike_times_s), 20)
        browser.close()
    assert session.execute("decode stop") and session.execute("record stop")


def _model(page, name: str, what: str):
    """A property of the page's Bokeh model called ``name`` (``text``, or a column as ``data.x``): Bokeh 3 draws
    its widgets in shadow roots and its plots on canvases, so ask its document."""
    return page.evaluate(
        """([name, what]) => {
            const model = Bokeh.documents[0].get_model_by_name(name);
            if (!model) return "";
            if (what.startsWith("data.")) return Array.from(model.data[what.slice(5)] ?? []);
            return model[what];
        }""",
        [name, what],
    )


def test_the_view_marks_flat_and_saturated_channels_as_monitor_finds_them(session):
    from bokeh.models import Range1d

    from neuroshell.view.page import DevicePanel
    from tests.helpers import FakePort, flat_and_saturated_board

    port = FakePort()
    feeder = flat_and_saturated_board(port)
    try:
        assert session.execute(f"connect serial {port.path} --protocol csv --rate 250Hz --name board")
        assert session.execute("view --no-browser")
        assert wait_until(lambda: session.devices["board"].samples_received > 300, 5)
        info = session.view.snapshot().devices["board"]
    finally:
        feeder.stop()
        session.execute("view stop")
    assert info.flags == {1: "flat", 2: "saturated"}
    panel = DevicePanel("board", info, Range1d(0, 10))
    low = high = np.zeros((5, 3), dtype=np.float32)
    panel._name_channels(low - np.arange(3), high + np.array([1, 0, 1]), slice(0, 3), info.flags)
    assert panel.names.data["text"] == ["ch000", "ch001 (flat)", "ch002 (saturated)"]
    assert panel.names.data["color"][1:] == ["#c00000", "#c00000"]


def test_a_page_shows_the_raw_signal_on_request_while_a_chain_runs(viewed):
    from bokeh.models import Range1d

    from neuroshell.view.page import RAW, DevicePanel

    device, watcher = viewed.devices["sim0"], viewed.view
    assert "sim0" not in watcher.snapshot().raw_feeds  # no chain: the decoder hears the raw signal itself
    assert viewed.execute("filter sim0 --bandpass 1Hz:40Hz")
    now = watcher.snapshot()
    raw = now.raw_feeds["sim0"]
    assert raw is not now.feeds["sim0"] and raw in device.listeners
    panel = DevicePanel("sim0", now.devices["sim0"], Range1d(0, 10))
    assert panel.feed_of(now) is now.feeds["sim0"] and now.devices["sim0"].signal.startswith("filtered (")
    panel.signal.value = RAW
    assert panel.feed_of(now) is raw
    assert wait_until(lambda: raw.samples_seen > 500 and now.feeds["sim0"].samples_seen > 500, 5)
    assert viewed.execute("filter sim0 --clear")
    assert "sim0" not in watcher.snapshot().raw_feeds and raw not in device.listeners


def test_the_view_says_how_far_a_running_simulation_is(session):
    import threading

    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    from neuroshell.view.page import Snapshot, _simulation

    assert session.execute("net example cuba") and session.execute("view --no-browser")
    seen, done = [], threading.Event()

    def watch():
        while not done.wait(0.02):
            seen.append(session.view.snapshot().simulating)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert session.execute("simulate 2s")
    finally:
        done.set()
        watcher.join()
    now = session.view.snapshot()
    session.execute("view stop")
    going = [s for s in seen if s is not None]
    assert going and all(asked == 2.0 and 0 <= done_s <= 2.0 for done_s, asked in going)
    assert now.simulating is None and now.simulation is not None
    raster = figure()
    _simulation(Snapshot(clock_s=0.0, simulating=(1.0, 2.0)), ColumnDataSource({"x": [], "y": []}), raster, {})
    assert raster.title.text == "simulating: 1.00 of 2 s (50%)"
