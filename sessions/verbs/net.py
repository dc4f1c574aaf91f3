"""Network verbs: net new/add/connect/input/show/save/load/example (simulate is in ``simulate``)."""

from neuroshell.common.words import counted, format_quantity
from neuroshell.neuron.layout import SYNAPSES
from neuroshell.sessions.argtypes import (
    Choice,
    FilePath,
    Float,
    H5Path,
    Int,
    LiveChoice,
    Quantity,
    SessionName,
    Weight,
)
from neuroshell.sessions.channels import Channels
from neuroshell.sessions.errors import NeuroshellError, UsageError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet

verbs = VerbSet("neuron")


def network_of(session):
    if session.network is None:
        raise NeuroshellError("no network yet: 'net new' or 'net example cuba'")
    return session.network


def _parameters(model: str, pairs: dict[str, str]) -> dict[str, float]:
    """``name=value`` words of ``net add`` as SI values, each in its parameter's declared unit."""
    from neuroshell.neuron.models import model as neuron_model
    from neuroshell.sessions.units import parse_quantity

    spec = neuron_model(model)
    values = {}
    for name, text in pairs.items():
        if name not in spec.params:
            spec.with_defaults({name: 0.0})  # the model's own error, naming its parameters
        unit = spec.params[name].unit
        try:
            values[name] = parse_quantity(text, unit) if unit else float(text)
        except (UsageError, ValueError) as error:
            raise NeuroshellError(f"{name}={text}: {error}") from None
    return values


def _parameter_help() -> str:
    from neuroshell.neuron.models import MODELS

    lines = []
    for name, spec in MODELS.items():
        items = [
            f"{key}={format_quantity(p.default, p.unit) if p.unit else f'{p.default:g}'}"
            for key, p in spec.params.items()
        ]
        lines.append(f"{name} ({spec.summary}), parameters (defaults): " + " ".join(items))
    return "\n".join(lines)


def _model_names() -> tuple[str, ...]:
    from neuroshell.neuron.models import MODELS

    return tuple(MODELS)


OVERWRITE_NETWORK = Flag("overwrite", "in a script: replace a network this session has edited or trained")


@verbs.verb("net new", "Start an empty network.", Arg("name", default="net"), OVERWRITE_NETWORK)
def net_new(session, args):
    from neuroshell.neuron.network import Network

    dropped = _replacing_network(session, "net new", args.overwrite)
    session.network, session.network_edited = Network(args.name), False
    return [Message(f"new network {args.name}"), *dropped]


def _replacing_network(session, verb: str, overwrite: bool) -> list[Message]:
    """What replacing the session's network drops, said when the user had edited it or it learnt weights;
    in a script that is refused unless ``overwrite`` (a script's next line may rely on the old one)."""
    old = session.network
    learned = old.learned_projections() if old is not None else []
    if old is None or not (session.network_edited or learned):
        return []
    what = old.summary() + (f"; weights learnt by {', '.join(learned)}" if learned else "")
    if session.script_depth and not overwrite:
        raise NeuroshellError(f"{verb} would drop network {what}: add --overwrite, or net save it first")
    return [Message(f"dropped network {what} (net save FILE keeps a network)", "warning")]


@verbs.verb(
    "net add",
    "Add a population of neurons.",
    Arg("population", help="the new population's name"),
    Opt("model", LiveChoice(source=_model_names), "neuron model", "lif"),
    Opt("n", Int(), "number of neurons"),
    keyvalues="model parameters with units, e.g. tau_m=20ms v_th=-50mV (listed below)",
    details=_parameter_help,
)
def net_add(session, args):
    from neuroshell.neuron.network import Network

    if args.n is None:
        raise NeuroshellError("net add: give the population size with --n N")
    network = session.network or Network("net")
    parameters = _parameters(args.model, args.kv)
    network.add_population(args.population, args.model, args.n, parameters)
    session.network = network  # only once the population is in: a failing net add changes nothing
    session.network_edited = True
    added = Message(f"added {args.population}: {args.n} {args.model} neurons")
    threshold = parameters.get("v_th")
    if threshold is not None and threshold > 0:  # a sign dropped: -50mV typed as 50mV
        said = format_quantity(threshold, "V")
        return [added, Message(f"v_th={said} is above 0 mV: thresholds sit near -50 mV (a minus sign left out?)",
                               "warning")]  # fmt: skip
    return added


@verbs.verb(
    "net connect",
    "Connect two populations (a projection).",
    Arg("source", SessionName(kind="population")),
    Arg("target", SessionName(kind="population")),
    Opt("rule", help="p=0.02, indegree=80, one2one or all", default="p=0.02"),
    Opt("w", Weight(), "weight: V or A (exp synapses), S (cond), V (delta)"),
    Opt("delay", Quantity(unit="s", minimum=0.0), "transmission delay (whole time steps)", 0.0),
    Opt("syn", Choice(choices=SYNAPSES), "exp, cond (exponential, current or conductance) or delta (a jump)", "exp"),
    Opt("tau", Quantity(unit="s", positive=True), "synaptic time constant", 5e-3),
    Opt("erev", Quantity(unit="V"), "reversal potential of cond synapses (default 0mV)"),
    Opt("plasticity", Choice(choices=("stdp",)), "stdp: spike-timing-dependent plasticity on every synapse"),
    Opt("wmax", Weight(), "STDP: largest weight, in --w's unit (weights stay in [0, wmax])"),
    Opt("taupre", Quantity(unit="s", positive=True), "STDP: presynaptic trace time constant", 20e-3),
    Opt("taupost", Quantity(unit="s", positive=True), "STDP: postsynaptic trace time constant", 20e-3),
    Opt("apre", Float(), "STDP: presynaptic trace jump, a fraction of wmax (potentiation)", 0.01),
    Opt("apost", Float(), "STDP: postsynaptic trace jump, a fraction of wmax (negative: depression)", -0.0105),
    Opt("stdp-rule", Choice(choices=("additive", "multiplicative")), "STDP: how a change scales", "additive"),
    Opt("winit", Choice(choices=("fixed", "uniform")), "STDP: initial weights --w, or uniform in [0, --w)", "fixed"),
)
def net_connect(session, args):
    if args.w is None:
        raise NeuroshellError("net connect: give the weight with --w, e.g. --w 0.27mV")
    weight, unit = args.w
    if unit == "S" and weight < 0:
        raise NeuroshellError(
            f"net connect: a conductance cannot be negative ({format_quantity(weight, 'S')}): inhibition is a "
            "reversal potential below rest, e.g. --w 1nS --erev -80mV"
        )
    plasticity = _stdp(args, weight, unit) if args.plasticity else None
    replaced = network_of(session).connect(
        args.source, args.target, args.rule, weight, unit, args.delay, args.syn, args.tau, args.erev, plasticity
    )
    session.network_edited = True
    verb = "replaced" if replaced else "connected"
    learning = f", STDP {plasticity.rule} up to {format_quantity(plasticity.wmax, unit)}" if plasticity else ""
    return Message(f"{verb} {args.source} -> {args.target} ({args.rule}, w {format_quantity(weight, unit)}{learning})")


def _stdp(args, weight: float, unit: str):
    from neuroshell.neuron.plasticity import stdp

    if args.wmax is None:
        raise NeuroshellError("--plasticity stdp needs --wmax, the largest weight (e.g. --wmax 0.6mV)")
    if args.wmax[1] != unit:
        raise NeuroshellError(f"--wmax is in {args.wmax[1]} but --w in {unit}: give both in one unit")
    return stdp(weight, args.wmax[0], args.taupre, args.taupost, args.apre, args.apost, args.stdp_rule, args.winit)


@verbs.verb(
    "net input",
    "Drive a population: Poisson spikes, a current, or a recorded stream.",
    Arg("population", SessionName(kind="population")),
    Opt("poisson", Quantity(unit="Hz", positive=True), "rate of each Poisson source"),
    Opt("sources", Int(minimum=1), "Poisson sources per neuron", 1),
    Opt("w", Weight(), "Poisson weight (default 0.5mV)"),
    Opt("current", Quantity(unit="A"), "a constant (or stepped) current"),
    Opt("start", Quantity(unit="s", minimum=0.0), "current step start", 0.0),
    Opt("stop", Quantity(unit="s", minimum=0.0), "current step end (default: never)"),
    Opt("from", H5Path(under="/streams/"), "FILE:/streams/NAME: a recorded stream as currents"),
    Opt("channels", Channels(), "stream channels, e.g. 0:16, 3,5,8 or MEG001,MEG002 (default: all)"),
    Opt("scale", Quantity(unit="A"), "current of one standard deviation of the stream", 1e-9),
    Opt("tau", Quantity(unit="s", positive=True), "Poisson synapse time constant", 5e-3),
    Flag("delta", "Poisson spikes make the membrane jump by --w (delta synapses) instead"),
    Flag("clear", "remove the population's inputs"),
    details="A population takes one input of each kind (Poisson; a current or a stream): a second replaces the "
    "first, and says so. --clear removes them all.",
)
def net_input(session, args):
    network = network_of(session)
    stream = getattr(args, "from")
    chosen = [args.poisson is not None, args.current is not None, stream is not None]
    if args.clear:
        if any(chosen):
            raise NeuroshellError("net input --clear removes inputs: give it alone, then add the new input")
        network.population(args.population)  # a clear error for an unknown population
        removed = network.clear_inputs(args.population)
        session.network_edited = True
        return Message(f"{args.population}: removed {_inputs_said(removed) or 'nothing (it had no input)'}")
    if sum(chosen) != 1:
        raise NeuroshellError("net input: give exactly one of --poisson RATE, --current I, --from FILE:/streams/NAME")
    if args.current is not None and args.stop is not None and args.stop <= args.start:
        raise NeuroshellError(
            f"net input: --stop {format_quantity(args.stop, 's')} is not after --start "
            f"{format_quantity(args.start, 's')}: the current would never flow"
        )
    from neuroshell.neuron.description import CurrentInput, PoissonInput, StreamInput

    if args.poisson is not None:
        weight, unit = args.w or (0.5e-3, "V")
        synapse = "delta" if args.delta else "cond" if unit == "S" else "exp"
        spec = PoissonInput(args.poisson, args.sources, weight, unit, synapse, args.tau, 0.0)
    elif args.current is not None:
        spec = CurrentInput(args.current, args.start, args.stop)
    else:
        path = session.workspace.path_of(stream)
        channels = _stream_channels(session, stream, args.channels)
        spec = StreamInput(str(path), stream.path.split("/")[2], tuple(channels) if channels else None, args.scale)
    replaced = network.replace_input(args.population, spec)
    session.network_edited = True
    said = f" (in place of {_inputs_said(replaced)})" if replaced else ""
    return Message(f"{args.population} gets {_input_said(spec)}{said}")


def _inputs_said(inputs: list) -> str:
    return ", ".join(_input_said(spec) for spec in inputs)


def _stream_channels(session, location, selection) -> list[int] | None:
    """The stream's channel indices a selection names, checked against the file now (not at simulate)."""
    with session.workspace.readable(location.file) as handle:
        names = handle.stream(location.path).spec.channel_names
    return selection.indices(names) if selection is not None else None


@verbs.verb(
    "net remove",
    "Remove a population (with its inputs and projections) or a projection SRC->DST.",
    Arg("what", help="a population, or a projection written SRC->DST"),
)
def net_remove(session, args):
    network = network_of(session)
    source, arrow, target = args.what.partition("->")
    if arrow:
        removed = network.remove_projection(source.strip(), target.strip())
        learned = " and the weights it learnt" if removed.plasticity and removed.plasticity.learned else ""
        said = f"removed {source.strip()} -> {target.strip()}{learned}"
    else:
        inputs = network.population(args.what).inputs
        projections = network.remove_population(args.what)
        parts = [counted(len(inputs), "input"), "projections " + ", ".join(projections) if projections else ""]
        said = f"removed {args.what} with " + " and ".join(p for p in parts if p)
    session.network_edited = True
    return Message(said)


@verbs.verb("net show", "Show the network: populations, projections, synapse counts.", replayable=False)
def net_show(session, args):
    network = network_of(session)
    pops = Table(("population", "model", "neurons", "inputs", "parameters"), title=network.summary())
    for population in network.populations():
        inputs = ", ".join(_input_said(spec) for spec in population.inputs) or "-"
        params = _parameters_said(population.model, population.params)
        pops.rows.append((population.name, population.model, population.n, inputs, params))
    projections = Table(("projection", "rule", "expected synapses", "weight", "synapse", "tau", "delay"))
    for made in network.projections():
        projections.rows.append(
            (
                f"{made.source} -> {made.target}",
                made.rule,
                _expected_synapses(network, made.source, made.target, made.rule),
                format_quantity(made.weight, made.weight_unit),
                made.synapse,
                format_quantity(made.tau_s, "s"),
                format_quantity(made.delay_s, "s"),
            )
        )
    return [pops, projections]


def _parameters_said(model: str, params) -> str:
    """``tau_m=20ms v_th=-50mV``: each SI value in its parameter's declared unit, as typed at ``net add``."""
    from neuroshell.neuron.models import model as neuron_model

    declared = neuron_model(model).params
    units = {name: declared[name].unit if name in declared else "" for name in params}
    return " ".join(f"{k}={format_quantity(v, units[k]) if units[k] else f'{v:.4g}'}" for k, v in params.items())


def _input_said(spec) -> str:
    """One input (a ``neuron.description`` input) as typed at ``net input``, with its units:
    ``2 Poisson sources at 8kHz (w 0.5mV)``."""
    if spec.kind == "poisson":
        rate, weight = format_quantity(spec.rate_hz, "Hz"), format_quantity(spec.weight, spec.weight_unit)
        return f"{counted(spec.n_sources, 'Poisson source')} at {rate} (w {weight})"
    if spec.kind == "current":
        start = f" from {format_quantity(spec.start_s, 's')}" if spec.start_s else ""
        stop = f" to {format_quantity(spec.stop_s, 's')}" if spec.stop_s is not None else ""
        return f"current {format_quantity(spec.amplitude_a, 'A')}{start}{stop}"
    return f"stream {spec.file}:/streams/{spec.stream} as currents"


def _expected_synapses(network, source: str, target: str, rule: str) -> int:
    from neuroshell.neuron.network import parse_rule

    n_source, n_target = network.population(source).n, network.population(target).n
    kind, value = parse_rule(rule)
    return {
        "p": round(n_source * n_target * value),
        "indegree": int(value) * n_target,
        "one2one": n_source,
        "all": n_source * n_target,
    }[kind]


@verbs.verb(
    "net save",
    "Save the network as JSON (or GraphML with a .graphml name).",
    Arg("file", FilePath()),
    Flag("overwrite", "replace an existing file"),
)
def net_save(session, args):
    session.workspace.ensure_free(args.file)
    network_of(session).save(args.file, overwrite=args.overwrite)
    return Message(f"saved {session.network.name} to {args.file}", "success")


@verbs.verb("net load", "Load a network saved as JSON or GraphML.", Arg("file", FilePath()), OVERWRITE_NETWORK)
def net_load(session, args):
    from neuroshell.neuron.network import Network

    network = Network.load(args.file)
    dropped = _replacing_network(session, "net load", args.overwrite)
    session.network, session.network_edited = network, False
    return [Message(f"loaded {session.network.summary()}"), *dropped]


@verbs.verb(
    "net example",
    "Build a classic benchmark network with its literature parameters.",
    Arg("name", Choice(choices=("cuba", "coba", "brunel", "stdp"))),
    Opt("n", Int(minimum=10), "number of neurons (connection probability scales to keep in-degree 80)"),
    OVERWRITE_NETWORK,
)
def net_example(session, args):
    from neuroshell.neuron.examples import EXAMPLES

    builder = EXAMPLES[args.name]
    network = builder(args.n) if args.n else builder()
    dropped = _replacing_network(session, "net example", args.overwrite)
    session.network, session.network_edited = network, False
    return [Message(f"built {session.network.summary()}"), *dropped]
