"""The live view's cost: the simulated helmet at 306 ch x 1 kHz recorded by this session, first without a
view, then with `view` open and one headless Chromium tab watching it (the reference is the same session
without the view).

Reported: the session process's share of a core in each phase (target: the view adds < 5% of a core), the
delay from a sample's arrival to its bin on the page (read in the page's own data source; target p99 <
250 ms), the page's frames per second (target >= 20), and the samples lost in each phase (target 0).

Run: python bench/view.py [--seconds 30] [--channels 306] [--rate 1000]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parents[1] / "tests" / "lsl_api.cfg"))

from neuroshell.sessions import Session
from neuroshell.sessions.ui import PlainUI

COUNT_FRAMES = """(name) => {
    const source = Bokeh.documents[0].get_model_by_name(name);
    window.frames = 0;
    source.streaming.connect(() => { window.frames += 1; });
}"""
LAST_BIN = """(name) => {
    const x = Bokeh.documents[0].get_model_by_name(name).data.x;
    return x.length ? x[x.length - 1] : null;
}"""


def phase(session, seconds: float, path: Path, page=None) -> dict:
    """Record for ``seconds``; returns the process's CPU share, samples lost and (with a page) the delays."""
    device = session.devices["sim0"]
    assert session.execute(f"record start {path}")
    lost_before = device.samples_lost
    cpu, started = time.process_time(), time.monotonic()
    delays = []
    if page is not None:
        page.evaluate(COUNT_FRAMES, "traces-sim0")
    while time.monotonic() - started < seconds:
        time.sleep(0.1)
        if page is not None:
            last = page.evaluate(LAST_BIN, "traces-sim0")
            feed = session.view.feeds["sim0"].feed
            if last is not None:
                # the page's axis reads seconds since the view opened; a bin ends 10 ms after its start
                delays.append(feed.last_arrival_s - (last + session.view.zero_s + 0.01))
    elapsed = time.monotonic() - started
    figures = {"cpu": (time.process_time() - cpu) / elapsed, "lost": device.samples_lost - lost_before}
    if page is not None:
        figures["frames_per_s"] = page.evaluate("window.frames") / elapsed
        figures["delays_ms"] = np.maximum(np.array(delays), 0) * 1e3
    assert session.execute("record stop")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--channels", type=int, default=306)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("bench/view.py needs a Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    session = Session(ui=PlainUI(), home=folder / "home")
    assert session.execute(f"connect sim --channels {args.channels} --rate {args.rate:g}Hz")
    time.sleep(2.0)  # the reader settles
    without = phase(session, args.seconds, folder / "without.h5")
    assert session.execute("view --no-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(session.view.server.url)
        page.wait_for_function("window.Bokeh && Bokeh.documents.length > 0", timeout=30_000)
        page.wait_for_function("Bokeh.documents[0].get_model_by_name('traces-sim0') !== null", timeout=30_000)
        time.sleep(2.0)
        viewed = phase(session, args.seconds, folder / "with.h5", page)
        browser.close()
    session.close()
    added = viewed["cpu"] - without["cpu"]
    delays = viewed["delays_ms"]
    print(f"{args.channels} ch x {args.rate:g} Hz, recorded {args.seconds:g} s per phase; one headless Chromium tab")
    print(f"session process: {without['cpu']:.1%} of a core without the view, {viewed['cpu']:.1%} with it: "
          f"+{added:.1%} (target < 5%: {'met' if added < 0.05 else 'MISSED'})")  # fmt: skip
    print(f"arrival -> page (the sample's bin in the page's data) p50 / p95 / p99: "
          f"{np.percentile(delays, 50):.0f} / {np.percentile(delays, 95):.0f} / {np.percentile(delays, 99):.0f} ms "
          f"(target p99 < 250 ms: {'met' if np.percentile(delays, 99) < 250 else 'MISSED'})")  # fmt: skip
    print(f"page updates: {viewed['frames_per_s']:.1f} per second (target >= 20: "
          f"{'met' if viewed['frames_per_s'] >= 20 else 'MISSED'})")  # fmt: skip
    print(f"samples lost: {without['lost']} without the view, {viewed['lost']} with it (target 0)")


if __name__ == "__main__":
    main()
