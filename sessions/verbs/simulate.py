"""The simulate verb: run the session's network (the engine is ``neuron.simulator``), say how it ran (threads,
speed, memory), keep learnt weights with the network, write the run where asked."""

import threading
from contextlib import contextmanager
from pathlib import Path

from neuroshell.common.words import format_quantity
from neuroshell.sessions.argtypes import Choice, CsvList, FilePath, FromSetting, Int, NeuronRef, Quantity, ThreadCount
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table, interrupted
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet
from neuroshell.sessions.verbs.kernels import wait_for_kernels
from neuroshell.sessions.verbs.net import network_of

verbs = VerbSet("neuron")
MAX_SENSIBLE_DT_S = 1e-3  # above this a simulate warns: LIF and synaptic time constants are a few ms


@verbs.verb(
    "simulate",
    "Simulate the network; prints spikes, rates, wall time and real-time factor (Ctrl-C keeps what ran).",
    Arg("duration", Quantity(unit="s", positive=True), "biological time, e.g. 1s"),
    Opt("dt", Quantity(unit="s", positive=True), "time step", FromSetting("sim.dt")),
    Opt("record", CsvList(item=Choice(choices=("spikes", "v", "rate", "weights"))), "what to keep", "spikes,rate"),
    Opt("every", Quantity(unit="s", positive=True), "with --record weights: how often (default 1s)", 1.0),
    Opt("to", FilePath(), "HDF5 file for /simulations/RUN"),
    Opt("run", help="run name in the file (default: run1, run2, ...)"),
    Flag("overwrite", "with --run: replace a run of that name"),
    Opt("seed", Int(minimum=0), "random seed", FromSetting("seed")),
    Opt(
        "threads",
        ThreadCount(),
        "threads sharing each step: auto (one or all cores left, whichever runs faster now) or N (same spikes)",
        FromSetting("sim.threads"),
    ),
    Opt(
        "trace", CsvList(item=NeuronRef()), "neurons whose v is recorded, e.g. exc:0,exc:1 (default: 3 per population)"
    ),
)
def simulate_verb(session, args):
    from neuroshell.common.background import run_yielding
    from neuroshell.neuron.inputs import stream_currents
    from neuroshell.neuron.simulator import simulate

    network = network_of(session)
    if args.dt > MAX_SENSIBLE_DT_S:  # said before the run, which goes on
        session.ui.show(Message(f"--dt {format_quantity(args.dt, 's')} is coarse: spikes and synaptic currents of "
                                "milliseconds want 0.1 ms (1 ms at most)", "warning"))  # fmt: skip
    wait_for_kernels(session)
    record = _traces(network, args.trace) if "v" in args.record else []
    if "weights" in args.record and not any(p.plasticity for p in network.projections()):
        raise NeuroshellError("--record weights: no projection learns (net connect ... --plasticity stdp)")
    if args.to and args.run and not args.overwrite and Path(args.to).exists():
        from neuroshell.storage.simulations import run_names

        with session.workspace.readable(str(args.to)) as file:
            taken = run_names(file)
        if args.run in taken:
            raise NeuroshellError(
                f"{args.to} already holds a run '{args.run}': choose another --run, or add --overwrite"
            )
    live = _live_work(session)
    stop = threading.Event()
    with session.ui.progress("simulating", total=args.duration) as bar, _said_to_the_view(session, args.duration):

        def progress(simulated_s: float) -> None:
            bar.update(simulated_s)
            session.simulating = (simulated_s, args.duration)

        def run():
            return simulate(
                network,
                args.duration,
                dt_s=args.dt,
                seed=args.seed,
                record=record,
                progress=progress,
                stream_loader=stream_currents,
                weights_every_s=args.every if "weights" in args.record else None,
                threads=args.threads,
                cores=simulation_cores(session),
                stop=stop,
            )

        # Beside a recording or a decoder the run takes what their threads leave (a lower OS priority).
        result = run_yielding(run, stop) if live else run()
    session.simulation = result
    network.keep_learned(result.learned, result.seed)
    rows = [
        (name, size, result.spike_count(name), f"{result.mean_rate_hz(name):.2f}")
        for name, (_, size) in result.populations.items()
    ]
    table = Table(("population", "neurons", "spikes", "mean rate (Hz)"), rows)
    rtf = result.wall_s / result.duration_s if result.duration_s else 0.0
    threads = _threads(result, simulation_cores(session))
    synapses = f"{result.n_synapses} synapses" + (
        f", {result.synapse_bytes / result.n_synapses:.1f} bytes each" if result.n_synapses else ""
    )
    beside = f"; at a lower OS priority than {live}" if live else ""
    summary = Message(
        f"simulated {result.duration_s:.3f} s in {result.wall_s:.3f} s wall on {threads} "
        f"(real-time factor {rtf:.3f}; build {result.build_s:.2f} s; {synapses}; "
        f"peak resident memory {result.peak_resident_bytes / 2**20:.0f} MB{beside})"
    )
    out = [table, summary]
    if result.learned:
        kept = ", ".join(result.learned)
        out.append(Message(f"learned weights of {kept} stay with the network (the next simulate goes on from them)"))
    if args.to:
        out.append(Message(f"wrote {_write(session, args, result)}", "success"))
    else:
        out.append(Message("the run is kept in memory only, until the next simulate: plot raster plots it; --to FILE"
                           " writes it"))  # fmt: skip
    if not result.completed:
        out.append(interrupted(f"simulation at {result.duration_s:.3f} of {args.duration:g} s", "kept what ran"))
    return out


@contextmanager
def _said_to_the_view(session, duration_s: float):
    """``session.simulating`` while the run goes (the live view shows its progress), None after it."""
    session.simulating = (0.0, duration_s)
    try:
        yield
    finally:
        session.simulating = None


def _live_work(session) -> str:
    """What runs live beside a simulation (``the recording``, ``the decoder``), or ``""``."""
    recording = session.recording is not None and session.recording.running
    found = [name for name, running in (("the recording", recording), ("the decoder", session.decoder)) if running]
    return " and ".join(found)


def _threads(result, cores: int) -> str:
    from neuroshell.neuron.kernels.threaded import THREADED_NEURONS
    from neuroshell.neuron.simulator import available_cores

    asked, used, said = result.threads, result.threads_used, result.threads_said
    n_neurons = sum(size for _, size in result.populations.values())
    if used == 1 and asked != 1 and cores > 1 and n_neurons < THREADED_NEURONS:
        asked = "auto" if asked == "auto" else f"{asked} asked"
        return f"{said} ({asked}: under {THREADED_NEURONS:,} neurons one thread is faster)"
    if asked == "auto" and cores < available_cores():
        kept = available_cores() - cores
        return f"{said} (auto, on {cores} of {available_cores()} cores: {kept} kept for the devices' readers)"
    if asked != "auto" and asked > available_cores():
        return f"{said} ({asked} asked; this machine has {available_cores()} cores)"
    return said


def simulation_cores(session) -> int:
    """The cores a simulation may use: a connected device's reader (and a recording or decoder fed by it)
    keeps one, so that a run never slows what is being recorded."""
    from neuroshell.neuron.simulator import available_cores

    return max(1, available_cores() - len(session.devices))


def _traces(network, neurons: list[tuple[str, int]] | None) -> list[tuple[str, int]]:
    if not neurons:
        return [(p.name, i) for p in network.populations() for i in range(min(3, p.n))]
    for name, index in neurons:
        size = network.population(name).n
        if index >= size:
            raise NeuroshellError(f"--trace {name}:{index}: {name} has neurons 0 to {size - 1}")
    return neurons


def _write(session, args, result) -> str:
    from neuroshell.storage.simulations import next_run_name, write_simulation

    with session.workspace.writable(args.to) as handle:
        where = write_simulation(handle, args.run or next_run_name(handle), result, overwrite_run=args.overwrite)
    session.made("simulation", args.to, where)
    return f"{args.to}:{where}"
