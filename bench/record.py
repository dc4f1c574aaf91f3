"""End-to-end LSL -> HDF5 recording: throughput, loss and CPU cost, next to a bare pylsl pull loop.

A producer process pushes a stream into a pylsl outlet in real time; channel 0 of sample k holds k, so
every lost sample is found. In this process, either a bare pylsl inlet pull loop (no storage, the
reference) or neuroshell's LslDevice + LiveRecording writes it to HDF5. Reported: samples received and lost,
CPU time of this process per second of signal, and whether the file holds every sample.

Run: LSLAPICFG=tests/lsl_api.cfg python bench/record.py [--seconds 60] [--quick]
Targets: zero loss at 384 ch x 30 kHz for 60 s; recording costs under 25% of one core at 306 ch x 1 kHz.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parents[1] / "tests" / "lsl_api.cfg"))

import pylsl

from neuroshell.devices.base import wait_until
from neuroshell.devices.lsl_device import connect_lsl
from neuroshell.devices.recording import LiveRecording

PUSH_INTERVAL_S = 0.01


def produce(name: str, channels: int, rate: float, seconds: float) -> None:
    """The producer process: a real-time outlet whose channel 0 counts samples."""
    info = pylsl.StreamInfo(name, "Bench", channels, rate, pylsl.cf_float32, name)
    outlet = pylsl.StreamOutlet(info, chunk_size=int(rate * PUSH_INTERVAL_S), max_buffered=360)
    template = np.random.default_rng(0).normal(size=(int(rate * PUSH_INTERVAL_S) * 4, channels)).astype(np.float32)
    print("ready", flush=True)
    sys.stdin.readline()  # wait until the consumer is connected
    start = pylsl.local_clock()
    sent, total = 0, int(rate * seconds)
    while sent < total:
        due = int(min(total, (pylsl.local_clock() - start) * rate))
        if due > sent:
            n = min(due - sent, len(template))
            chunk = template[:n].copy()
            chunk[:, 0] = np.arange(sent, sent + n)
            outlet.push_chunk(chunk, start + (sent + n - 1) / rate)
            sent += n
        else:
            time.sleep(PUSH_INTERVAL_S / 2)
    print(f"sent {sent}", flush=True)
    time.sleep(3.0)  # keep the outlet until the consumer has drained it


def start_producer(channels: int, rate: float, seconds: float) -> tuple[subprocess.Popen, str]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [sys.executable, __file__, "--produce", name, str(channels), str(rate), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process, name


def bare_pull(channels: int, rate: float, seconds: float) -> dict:
    producer, name = start_producer(channels, rate, seconds)
    inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", name, 1, 5.0)[0], max_buflen=360)
    inlet.open_stream(5.0)
    producer.stdin.write("go\n")
    producer.stdin.flush()
    cpu0, received, last = time.process_time(), 0, -1
    deadline = time.monotonic() + seconds + 5
    lost = 0
    while time.monotonic() < deadline and received < int(rate * seconds):
        data, _ = inlet.pull_chunk(timeout=0.2, max_samples=65536, as_numpy=True)
        if len(data):
            counter = data[:, 0].astype(np.int64)
            lost += int(counter[0] - last - 1) + int(np.count_nonzero(np.diff(counter) != 1))
            last = int(counter[-1])
            received += len(data)
    cpu = time.process_time() - cpu0
    producer.wait()
    lost += int(rate * seconds) - 1 - last
    return {"received": received, "lost": lost, "cpu_per_s": cpu / seconds}


def record(channels: int, rate: float, seconds: float, folder: Path) -> dict:
    producer, name = start_producer(channels, rate, seconds)
    clock = pylsl.local_clock
    device = connect_lsl("bench", clock, 5.0, {"name": name})
    path = folder / f"bench-{channels}x{rate:g}.h5"
    recording = LiveRecording(path, [device], clock, overwrite=True)
    producer.stdin.write("go\n")
    producer.stdin.flush()
    cpu0 = time.process_time()
    total = int(rate * seconds)
    wait_until(lambda: device.samples_received >= total, seconds + 10, 0.1)
    stats = recording.stop()
    cpu = time.process_time() - cpu0
    device.close()
    producer.wait()
    import h5py

    with h5py.File(path) as f:
        counter = f["streams/bench/data"][:, 0].astype(np.int64)
    complete = len(counter) == total and bool(np.all(counter == np.arange(total)))
    path.unlink()
    return {
        "received": device.samples_received,
        "lost": total - stats.streams["bench"].samples_written,
        "dropped": stats.streams["bench"].samples_dropped,
        "cpu_per_s": cpu / seconds,
        "complete": complete,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of signal for the 30 kHz case")
    parser.add_argument("--quick", action="store_true", help="shorter runs (10 s) for a first look")
    parser.add_argument("--produce", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.produce:
        name, channels, rate, seconds = args.produce
        produce(name, int(channels), float(rate), float(seconds))
        return
    long_s = 10.0 if args.quick else args.seconds
    cases = [("306 ch x 1 kHz", 306, 1000.0, min(long_s, 20.0)), ("384 ch x 30 kHz", 384, 30000.0, long_s)]
    print(
        f"{'case':18} {'consumer':22} {'seconds':>7} {'received':>10} {'lost':>6} {'CPU % of a core':>16} file complete"
    )
    with tempfile.TemporaryDirectory() as folder:
        for label, channels, rate, seconds in cases:
            bare = bare_pull(channels, rate, seconds)
            rec = record(channels, rate, seconds, Path(folder))
            print(
                f"{label:18} {'bare pylsl pull loop':22} {seconds:>7.0f} {bare['received']:>10} {bare['lost']:>6} "
                f"{bare['cpu_per_s']:>16.1%} -"
            )
            print(
                f"{label:18} {'neuroshell record':22} {seconds:>7.0f} {rec['received']:>10} {rec['lost']:>6} "
                f"{rec['cpu_per_s']:>16.1%} {rec['complete']}"
            )
        print("highest rate with zero loss (384 channels, 10 s each):")
        best = None
        for rate in (30000.0, 60000.0, 90000.0, 120000.0, 180000.0):
            result = record(384, rate, 10.0, Path(folder))
            ok = result["lost"] == 0 and result["complete"]
            verdict = "ok" if ok else "loss"
            print(f"  {rate / 1000:g} kHz: lost {result['lost']}, CPU {result['cpu_per_s']:.0%} -> {verdict}")
            if not ok:
                break
            best = rate
        print(f"highest zero-loss rate: {best / 1000:g} kHz x 384 ch" if best else "no zero-loss rate found")


if __name__ == "__main__":
    main()
