"""Closed loop: how fast a prediction follows the helmet's response, while recording and monitor run.

A helmet process plays --channels at --rate (blocks of 20 ms, stimuli every 0.4-0.7 s) into a
pseudo-terminal. This process is a neuroshell session: it records the helmet for --train seconds, cuts
epochs and trains a decoder on them (--model: snn-mlp as the demo does, or one of the field's pipelines),
then records again with `monitor` running and `decode start` classifying each stimulus' window as it
arrives. A second LSL program (a pylsl inlet in a thread here) reads the predictions off the outlet
`neuroshell-decoder`.

Reported: latency from the arrival of a window's last sample to the prediction on the outlet (target
p99 < 15 ms), end to end from that sample's timestamp to the outlet (target p99 < 50 ms, the helmet's block
included) and to the other program's inlet, the share of a core the whole session used, samples lost.

With ``--beside cuba:40000`` the session simulates that network again and again while it decodes, instead of
running `monitor` (the thread count left to `auto`): the decoder's latency and the samples lost beside a
simulation.

Run: python bench/closedloop.py [--seconds 60] [--train 60] [--channels 306] [--rate 1000] [--model snn-mlp]
     [--beside cuba:40000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parents[1] / "tests" / "lsl_api.cfg"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import byte_compile_neuroshell

from neuroshell.sessions import Session
from neuroshell.sessions.ui import PlainUI

STIMULUS_INTERVAL_S = (0.4, 0.7)


def serve_helmet(channels: int, seed: int, rate_hz: float) -> None:
    """The helmet process: prints its pty's path, then plays until its standard input closes."""
    from neuroshell.devices.clock import session_clock
    from neuroshell.devices.simhelmet import HelmetSignal, SimHelmetServer

    signal = HelmetSignal(channels, rate_hz, seed=seed, stimulus_interval_s=STIMULUS_INTERVAL_S)
    server = SimHelmetServer(signal, "serial", session_clock()).start()
    print(server.port_path, flush=True)
    sys.stdin.read()
    server.stop()


def start_helmet(channels: int, seed: int, rate_hz: float) -> tuple[subprocess.Popen, str]:
    helmet = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(channels), str(seed), str(rate_hz)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return helmet, helmet.stdout.readline().strip()


def stop_helmet(helmet: subprocess.Popen) -> None:
    helmet.stdin.close()
    helmet.wait()


def read_predictions(stop: threading.Event, arrivals: list[tuple[str, float]]) -> None:
    """Another LSL program: reads the decoder's outlet and notes when each prediction arrived."""
    import pylsl

    streams = pylsl.resolve_byprop("name", "neuroshell-decoder", 1, 10.0)
    inlet = pylsl.StreamInlet(streams[0])
    inlet.open_stream(5.0)
    while not stop.is_set():
        sample, _ = inlet.pull_sample(timeout=0.2)
        if sample is not None:
            arrivals.append((sample[0], pylsl.local_clock()))


def train_decoder(session: Session, args, out: Path) -> None:
    channels, seconds = args.channels, args.train
    helmet, port = start_helmet(channels, 1, args.rate)
    try:
        assert session.execute(f"connect serial {port} --rate {args.rate:g}Hz --channels {channels} --name helmet")
        assert session.execute(f"record start {out / 'train.h5'} --for {seconds:g}s")
        assert session.execute(f"wait {seconds + 0.5:g}s")
        assert session.execute("disconnect helmet")
    finally:
        stop_helmet(helmet)
    recipe = "--markers stim/* --window -100ms:400ms --baseline -100ms:0s --name evoked"
    assert session.execute(f"dataset epochs {out / 'train.h5'}:/streams/helmet {recipe}")
    assert session.execute(f"train evoked --model {args.model} --epochs 30 --steps 12 --name decoder --seed 1")
    assert session.execute("evaluate decoder evoked")


def run_loop(session: Session, args, out: Path) -> dict:
    channels, seconds = args.channels, args.seconds
    helmet, port = start_helmet(channels, 2, args.rate)
    stop, arrivals = threading.Event(), []
    try:
        assert session.execute(f"connect serial {port} --rate {args.rate:g}Hz --channels {channels} --name helmet")
        assert session.execute("decode start decoder")
        reader = threading.Thread(target=read_predictions, args=(stop, arrivals), daemon=True)
        reader.start()
        assert session.execute(f"record start {out / 'loop.h5'} --for {seconds:g}s")
        cpu_start, wall_start = os.times(), time.monotonic()
        if args.beside:
            simulate_beside(session, args.beside, wall_start + seconds)
        else:
            assert session.execute(f"monitor --for {seconds:g}s")
        cpu_end, wall_end = os.times(), time.monotonic()
        time.sleep(0.5)
        device, outputs = session.decoder.device, session.decoder.outputs
        figures = outputs.status()
        predictions = list(outputs.predictions)
        lost = device.samples_lost
        stop.set()
        reader.join()
        assert session.execute("decode stop")
        assert session.execute("disconnect helmet")
    finally:
        stop_helmet(helmet)
    cpu = (cpu_end.user + cpu_end.system - cpu_start.user - cpu_start.system) / (wall_end - wall_start)
    # The inlet's arrivals in order, one per prediction pushed (the outlet keeps order).
    inlet_ms = [(arrived - p.last_sample_s) * 1e3 for p, (_, arrived) in zip(predictions, arrivals, strict=False)]
    offline = session.models["decoder"].evaluation["evoked"]["accuracy"]
    return {
        **figures,
        "offline": offline,
        "cpu": cpu,
        "lost": lost,
        "inlet_ms": np.array(inlet_ms),
        "received": len(arrivals),
    }


def simulate_beside(session: Session, network: str, until: float) -> None:
    """Simulate ``network`` (EXAMPLE:N) in runs of 10 s until ``until`` (monotonic time)."""
    example, n = network.split(":")
    assert session.execute(f"net example {example} --n {n}")
    runs = 0
    while time.monotonic() < until:
        assert session.execute("simulate 10s")
        runs += 1
    print(f"beside the decoder: {runs} runs of {network} x 10 s, the last on {session.simulation.threads_said}")


def recorded_samples(path: Path) -> tuple[int, int]:
    import h5py

    with h5py.File(path) as f:
        return f["streams/helmet/time"].shape[0], f["streams/helmet/gaps"].shape[0]


def report(figures: dict, recorded: tuple[int, int], args) -> None:
    def percentiles(name: str) -> str:
        return " / ".join(f"{figures[f'{name}_p{q}_ms']:.1f}" for q in (50, 95, 99)) + " ms"

    inlet = figures["inlet_ms"]
    inlet_text = " / ".join(f"{np.percentile(inlet, q):.1f}" for q in (50, 95, 99)) + " ms" if len(inlet) else "none"
    rows = [
        (
            "run",
            f"{args.seconds:g} s of {args.channels} ch x {args.rate:g} Hz over a pty, recording + "
            f"{f'simulating {args.beside}' if args.beside else 'monitor'} + {args.model} decoder",
            "",
        ),
        ("predictions", f"{figures['predictions']} ({figures['received']} read by the other program)", ""),
        (
            "online accuracy",
            f"{figures['accuracy']:.2f} over {figures['judged']} (offline, test split: {figures['offline']:.2f})",
            "",
        ),
        (
            "arrival -> outlet p50/p95/p99",
            percentiles("latency"),
            "target p99 < 15 ms: " + ("met" if figures["latency_p99_ms"] < 15 else "MISSED"),
        ),
        (
            "timestamp -> outlet p50/p95/p99",
            percentiles("end_to_end"),
            "target p99 < 50 ms: " + ("met" if figures["end_to_end_p99_ms"] < 50 else "MISSED"),
        ),
        ("timestamp -> other program's inlet", inlet_text, ""),
        ("CPU", f"{figures['cpu']:.1%} of one core (the whole session: reading, recording, monitor, decoder)", ""),
        (
            "samples lost",
            f"{figures['lost']} (recorded {recorded[0]}, gaps in the file {recorded[1]})",
            "target 0: " + ("met" if figures["lost"] == 0 and recorded[1] == 0 else "MISSED"),
        ),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value}  {verdict}")


def main() -> None:
    from loguru import logger

    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_helmet(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the decoded recording")
    parser.add_argument("--train", type=float, default=60.0, help="length of the training recording")
    parser.add_argument("--channels", type=int, default=306)
    parser.add_argument("--rate", type=float, default=1000.0, help="the helmet's rate in Hz")
    parser.add_argument("--model", default="snn-mlp", help="decoder kind (train --model), e.g. csp-lda, ts-lr")
    parser.add_argument("--beside", help="simulate this network (EXAMPLE:N) during the loop instead of monitor")
    args = parser.parse_args()
    logger.remove()  # the session logs to its own file
    byte_compile_neuroshell()
    import torch

    torch.set_num_threads(1)  # one core for the decoder, as the target states
    with tempfile.TemporaryDirectory(prefix="neuroshell-loop-") as folder, open(os.devnull, "w") as quiet:
        out = Path(folder)
        session = Session(ui=PlainUI(quiet, quiet), home=out / "home")
        session.settings.set("models.dir", str(out / "models"))
        train_decoder(session, args, out)
        figures = run_loop(session, args, out)
        session.close()
        report(figures, recorded_samples(out / "loop.h5"), args)


if __name__ == "__main__":
    main()
