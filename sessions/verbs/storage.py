"""Storage verbs: open, close, recover, files, ls, info."""

from neuroshell.sessions.argtypes import Choice, FilePath, H5Location, H5Path
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table, Tree
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet

verbs = VerbSet("storage")


@verbs.verb(
    "open",
    "Open a neuroshell HDF5 file (r: read, a: read and append, w: create).",
    Arg("file", FilePath(), "the .h5 file"),
    Opt("mode", Choice(choices=("r", "a", "w")), "r read-only, a append, w create", "r"),
    Flag("overwrite", "with --mode w: replace an existing file"),
)
def open_verb(session, args):
    path = args.file
    name, handle = session.workspace.open(path, args.mode, overwrite=args.overwrite)
    streams = handle.stream_names()
    text = f"opened {path} as {name} ({'read-only' if handle.mode == 'r' else 'writable'}; "
    text += f"{len(streams)} stream(s): {', '.join(streams) or 'none'})"
    result = [Message(text, "success")]
    if handle.interrupted:
        result.append(
            Message(
                f"{path} is still being recorded or its recording was interrupted: opened read-only through "
                f"SWMR; 'recover {path}' writes a clean copy",
                "warning",
            )
        )
    return result


@verbs.verb("close", "Close an open file (or all).", Arg("file", default=None))
def close_verb(session, args):
    names = session.workspace.close_files(None if args.file in (None, "all") else args.file)
    return Message(f"closed {', '.join(names) or 'nothing'}")


@verbs.verb(
    "recover",
    "Write a clean copy of an interrupted recording that any HDF5 reader opens.",
    Arg("file", FilePath(), "the interrupted .h5 file"),
    Opt("to", FilePath(), "the new file (default: NAME-recovered.h5)"),
    Flag("overwrite", "replace an existing target"),
)
def recover_verb(session, args):
    from neuroshell.storage.recovery import recover

    if session.workspace.find(str(args.file)) is not None:
        raise NeuroshellError(f"{args.file} is open in this session: close it first")
    target, counts = recover(args.file, args.to, overwrite=args.overwrite)
    rows = [(name, n) for name, n in counts.items()]
    return [Table(("stream", "samples recovered"), rows), Message(f"wrote {target}", "success")]


@verbs.verb("files", "List the open files.", replayable=False)
def files_verb(session, args):
    rows = []
    for name, handle in session.files.items():
        size = handle.path.stat().st_size if handle.path.exists() else 0
        state = "interrupted/recording (SWMR)" if handle.interrupted else handle.mode
        rows.append((name, str(handle.path), state, f"{size / 1e6:.1f} MB", ", ".join(handle.stream_names())))
    return Table(("name", "path", "mode", "size", "streams"), rows, title="Open files", empty="no files open")


def _tree(entry) -> Tree:
    if entry.kind == "dataset":
        shape = "×".join(str(n) for n in entry.shape) or "scalar"
        return Tree(f"{entry.name}  [{shape} {entry.dtype}]")
    label = entry.name if entry.name == "/" else entry.name + "/"
    if entry.duration_s is not None:
        label += f"  ({entry.duration_s:.3f} s)"
    return Tree(label, [_tree(child) for child in entry.children])


@verbs.verb(
    "ls",
    "Show the tree of a file: groups, datasets with shapes and dtypes, stream durations.",
    Arg("location", H5Path(), "FILE or FILE:/group", None),
    replayable=False,
)
def ls_verb(session, args):
    from neuroshell.storage.browse import walk

    location: H5Location | None = args.location
    if location is None:
        if len(session.files) != 1:
            return files_verb(session, args)
        location = H5Location(next(iter(session.files)), "/")
    with session.workspace.readable(location.file) as handle:
        return _tree(walk(handle, location.path))


@verbs.verb(
    "info",
    "Attributes, shape, chunking, compression and time span of one object in a file.",
    Arg("location", H5Path(), "FILE:/path"),
    replayable=False,
)
def info_verb(session, args):
    from neuroshell.storage.browse import describe

    with session.workspace.readable(args.location.file) as handle:
        facts = describe(handle, args.location.path)
    return Table(("", ""), [(key, _readable(value)) for key, value in facts.items()], title=str(args.location))


def _readable(value) -> str:
    """Floats to 10 significant digits (999.99, not 999.9900000000001), in lists and tuples too."""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list | tuple) and value and all(isinstance(v, float) for v in value):
        return "(" + ", ".join(f"{v:.10g}" for v in value) + ")"
    return str(value)
