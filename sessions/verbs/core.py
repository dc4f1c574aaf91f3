"""Shell verbs: help, history, settings, scripts, status, quit."""

import re
import time
from pathlib import Path

from neuroshell.sessions.argtypes import FilePath, FromSetting, Int, Quantity, SettingKey, VerbName
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import ClearScreen, Commands, Message, Paged, Table, elide
from neuroshell.sessions.registry import REQUIRED, Arg, Flag, VerbSet

verbs = VerbSet("core")


@verbs.verb(
    "help",
    "List commands, or explain one.",
    Arg("verb", VerbName(), default=None, rest=True),
    replayable=False,
)
def help_verb(session, args):
    registry = session.registry
    areas = list(dict.fromkeys(verb.group for verb in registry.verbs.values()))  # in registration order
    if not args.verb:
        rows = [(area, ", ".join(n for n, v in registry.verbs.items() if v.group == area)) for area in areas]
        return Paged([Table(("area", "commands (help AREA or help COMMAND for more)"), rows, title="neuroshell")])
    words = list(args.verb)
    group = registry.aliases.get(words[0], words[0])
    if len(words) == 1 and group not in registry.verbs and (registry.subverbs(group) or group in areas):
        chosen = [(n, v) for n, v in registry.verbs.items() if n.split()[0] == group or v.group == group]
        rows = [(name, verb.summary) for name, verb in sorted(chosen)]
        return Paged([Table(("command", "what it does"), rows, title=f"{group}: help COMMAND for one of them")])
    return Paged(verb_help(registry.lookup(words).verb, session.settings))


def verb_help(verb, settings) -> list:
    """Usage, summary, details and the argument table of one verb, each argument with its default."""
    rows = [
        (p.usage(), p.type.describe() if not p.flag else "flag", default_text(p, settings), p.help) for p in verb.params
    ]
    if verb.keyvalues:
        rows.append(("key=value ...", "", "", verb.keyvalues))
    result = [Message(f"usage: {verb.usage()}"), Message(verb.summary)]
    details = verb.details() if callable(verb.details) else verb.details
    if details:
        result.append(Message(details))
    if rows:
        result.append(Table(("argument", "type", "default", "meaning"), rows))
    return result


def default_text(param, settings) -> str:
    """What a parameter is when it is not given: a value as a user would type it, a setting's current value,
    or where the default depends on other words, a pointer to its meaning."""
    if param.flag:
        return "off"
    if param.required:
        return "required"
    if isinstance(param.default, FromSetting):
        setting = settings.setting(param.default.key)
        return f"{setting.format(settings[param.default.key])} (setting {param.default.key})"
    if param.default is None or param.default is REQUIRED or param.rest:
        said = re.search(r"(?:\(|; )default:? ([^)]*)\)", param.help)
        return said.group(1) if said else "none"
    return param.type.shown(param.default)


@verbs.verb(
    "history",
    "Show the commands of this session.",
    Arg("n", Int(minimum=1), "last N", None),
    replayable=False,
)
def history_verb(session, args):
    lines = session.history[:-1]  # without this very command
    start = 1
    if args.n is not None and len(lines) > args.n:
        start = len(lines) - args.n + 1
        lines = lines[-args.n :]
    return Commands([elide(line) for line in lines], numbered_from=start)


@verbs.verb("set", "Change a setting.", Arg("key", SettingKey()), Arg("value"))
def set_verb(session, args):
    session.settings.set(args.key, args.value)
    key, value, _ = session.settings.rows(args.key)[0]
    return Message(f"{key} = {value}")


@verbs.verb("get", "Show settings (all, or one).", Arg("key", SettingKey(), default=None), replayable=False)
def get_verb(session, args):
    return Table(("setting", "value", "meaning"), session.settings.rows(args.key))


@verbs.verb("unset", "Return a setting to its default.", Arg("key", SettingKey()))
def unset_verb(session, args):
    session.settings.unset(args.key)
    key, value, _ = session.settings.rows(args.key)[0]
    return Message(f"{key} = {value} (default)")


@verbs.verb("clear", "Clear the screen (the session and its history stay).", replayable=False)
def clear_verb(session, args):
    return ClearScreen()


@verbs.verb("echo", "Print text.", Arg("text", rest=True, default=None))
def echo_verb(session, args):
    return " ".join(args.text)


@verbs.verb(
    "wait", "Pause for a duration (Ctrl-C cancels).", Arg("duration", Quantity(unit="s", minimum=0.0), "e.g. 2s")
)
def wait_verb(session, args):
    deadline = time.monotonic() + args.duration
    # Sleep in short steps so Ctrl-C is served promptly.
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


@verbs.verb(
    "run",
    "Replay a command script (.nsh) in this session.",
    Arg("file", FilePath(), "the script"),
    Flag("keep-going", "run the remaining lines after a failing one"),
    keyvalues="script parameters: ${name} in the script becomes VALUE",
    replayable=True,
)
def run_verb(session, args):
    if not args.file.is_file():
        raise NeuroshellError(f"no such script: {args.file}")
    failures = session.run_script(args.file, keep_going=args.keep_going, params=args.kv)
    if failures:
        raise NeuroshellError(f"{args.file}: {failures} line(s) failed")


@verbs.verb(
    "save-history",
    "Write this session's successful commands as a replayable script.",
    Arg("file", FilePath(), "script to write, e.g. session.nsh"),
    Flag("overwrite", "replace an existing file"),
    replayable=False,
)
def save_history_verb(session, args):
    path: Path = args.file
    session.workspace.ensure_free(path)
    if path.exists() and not args.overwrite:
        raise NeuroshellError(f"{path} exists: choose another name or add --overwrite")
    header = f"# neuroshell script saved {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(line + "\n" for line in session.replayable), encoding="utf-8")
    return Message(f"wrote {len(session.replayable)} commands to {path}", "success")


@verbs.verb(
    "cd", "Change the working folder (relative paths in later commands start there).", Arg("folder", FilePath())
)
def cd_verb(session, args):
    import os

    os.chdir(args.folder)
    return Message(f"now in {Path.cwd()}")


@verbs.verb("pwd", "Show the working folder.", replayable=False)
def pwd_verb(session, args):
    return Message(str(Path.cwd()))


@verbs.verb("status", "Show the session: log file, devices, recording, files, network.", replayable=False)
def status_verb(session, args):
    recording = session.recording.describe() if session.recording is not None else "not recording"
    network = session.network.summary() if session.network is not None else "none"
    rows = [
        ("log file", str(session.log_path)),
        ("home", str(session.home)),
        ("uptime", f"{time.time() - session.started:.0f} s"),
        ("commands run", str(len(session.history))),
        ("devices", ", ".join(session.devices) or "none"),
        ("recording", recording),
        ("open files", ", ".join(session.files) or "none"),
        ("network", network),
        ("models", ", ".join(session.models) or "none"),
    ]
    return Table(("", ""), rows, title="Session")


@verbs.verb("outputs", "What this session made: recordings, datasets, models, plots.", replayable=False)
def outputs_verb(session, args):
    rows = [(made.kind, str(made)) for made in session.outputs]
    return Table(("kind", "path"), rows, title=f"Made in this session ({len(rows)})", empty="nothing made yet")


@verbs.verb("quit", "Leave the shell, closing files and devices cleanly.", aliases=("exit",), replayable=False)
def quit_verb(session, args):
    session.quit_requested = True
