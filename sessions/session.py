"""The Session: the one object that holds a shell's state, and runs command lines against it."""

import os
import re
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Any

from neuroshell.common.errors import UserError
from neuroshell.common.memory import return_freed_memory
from neuroshell.sessions.errors import NeuroshellError, ScriptError
from neuroshell.sessions.output import elide
from neuroshell.sessions.registry import Registry, fill_setting_defaults
from neuroshell.sessions.settings import Settings
from neuroshell.sessions.ui import UI, PlainUI
from neuroshell.sessions.workspace import Workspace

MAX_SCRIPT_DEPTH = 16
KEPT_LOGS = 100  # session logs kept in $NEUROSHELL_HOME/logs; older ones are removed
TRIM_AFTER_S = 0.2  # commands that ran longer give their freed memory back (common/memory.py)


PARAMETER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)(?::-([^}]*))?\}")


def expand(line: str, params: dict[str, str]) -> str:
    """Replace ``${name}`` / ``${name:-default}`` with script parameters."""

    def value(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in params:
            return params[name]
        if default is not None:
            return default
        raise NeuroshellError(f"${{{name}}} has no value: pass {name}=VALUE")

    return PARAMETER.sub(value, line)


def default_home() -> Path:
    """Where history and logs live: ``$NEUROSHELL_HOME`` or the user's data folder."""
    if os.environ.get("NEUROSHELL_HOME"):
        return Path(os.environ["NEUROSHELL_HOME"]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("neuroshell", appauthor=False))


class Session:
    """All state of one shell: settings, open files, devices, the network, models, the recording.

    Engines receive what they need from here; nothing in neuroshell is global.
    """

    def __init__(
        self,
        ui: UI | None = None,
        home: Path | None = None,
        registry: Registry | None = None,
        debug: bool = False,
    ) -> None:
        if registry is None:
            from neuroshell.sessions.verbs import build_registry

            registry = build_registry()
        self.registry = registry
        self.ui: UI = ui or PlainUI()
        self.home = Path(home) if home else default_home()
        self.home.mkdir(parents=True, exist_ok=True)
        self.debug = debug
        self.settings = Settings()
        self.history: list[str] = []  # every line run in this session, in order
        self.replayable: list[str] = []  # the lines save-history writes: those that succeeded
        self.workspace = Workspace()  # the open files, and reading or writing any file
        self.devices: dict[str, Any] = {}  # name -> devices.Device
        # device name -> filters.pipeline.LivePipeline: the device's filter chain and decoder, one teardown
        self.pipelines: dict[str, Any] = {}
        self.notices_at_once = False  # set by the interactive shell, whose output goes above the prompt
        self.view: Any = None  # the live view's verbs.view.SessionWatcher while a view is open
        self.recording: Any = None  # a devices.recording.LiveRecording while one runs
        self.network: Any = None  # neuron.Network
        self.simulation: Any = None  # the last neuron.SimulationResult
        self.simulating: tuple[float, float] | None = None  # while simulate runs: (simulated s, asked s)
        self.kernel_warmup: Any = None  # a neuron.warmup.KernelWarmup started by `net compile`
        self.models: dict[str, Any] = {}  # name -> training.TrainedModel
        self.datasets: dict[str, Any] = {}
        self.outputs: list[Any] = []  # an output.Made for every file (or object in one) this session made
        self.quit_requested = False
        self.running_verb = ""  # the verb of the command running, for messages
        # A Ctrl-C that came after the line was entered but before its verb started (set by the shell):
        # it cancels that command as it starts.
        self.interrupt_pending = False
        self.cleaning_up = False  # execute's own clean-up, which a Ctrl-C must not break
        self.network_edited = False  # net add/connect/input since the network was made, loaded or built
        # Whether a person is at the prompt (set by the shell): scripts and -c runs never wait for Ctrl-C.
        self.interactive = False
        self.notices: deque[tuple[str, bool]] = deque()  # what background work (a recording's fault) has to say
        self.started = time.time()
        self.script_depth = 0
        self.last_traceback = ""
        self.id = f"{os.getpid()}-{id(self):x}"
        self.log_path = self._start_log()

    def _start_log(self) -> Path:
        from loguru import logger

        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for old in sorted(logs.glob("session-*.log"))[:-KEPT_LOGS]:  # names sort by start time
            old.unlink(missing_ok=True)
        path = logs / f"session-{time.strftime('%Y%m%d-%H%M%S')}-{self.id}.log"
        # Records tagged with another session's id stay out of this log; untagged ones (an engine used as a
        # library, a thread started outside any session) go to every session's log.
        self._log_sink = logger.add(
            path,
            level="DEBUG",
            enqueue=False,
            backtrace=False,
            diagnose=False,
            filter=lambda record: record["extra"].get("session", self.id) == self.id,
        )
        with logger.contextualize(session=self.id):
            logger.info("session started")
        return path

    def execute(self, line: str, where: str = "") -> bool:
        """Run one command line; report any error as one line (after ``where``, e.g. ``paste:2``, if given).
        Returns whether it succeeded."""
        started = time.monotonic()
        said = f"{where}: " if where else ""
        try:
            self.run_line(line)
            return True
        except NeuroshellError as error:
            self.report(f"{said}{error}")
        except KeyboardInterrupt:
            self.report(f"{said}interrupted: {self.running_verb or 'the command'} cancelled; nothing kept")
        finally:
            self.interrupt_pending = False
            self.cleaning_up = True  # a Ctrl-C now waits for the next command (cli.interrupts)
            try:
                self.show_notices()
                if time.monotonic() - started > TRIM_AFTER_S:  # a long command: hand back what it freed
                    return_freed_memory()
            finally:
                self.cleaning_up = False
        return False

    def made(self, kind: str, file, inside: str = "") -> str:
        """Note that this session made ``file`` (or the object ``inside`` it); returns it as ``FILE:/path``."""
        from neuroshell.sessions.output import Made

        made = Made(kind, str(file), inside)
        self.outputs.append(made)
        return str(made)

    def names(self, kind: str) -> list[str]:
        """Live names of a kind (population, dataset, model, device), for completion."""
        if kind == "population":
            return [p.name for p in self.network.populations()] if self.network is not None else []
        held = {"dataset": self.datasets, "model": self.models, "device": self.devices}.get(kind, {})
        if kind == "model":  # and those saved in models.dir by earlier sessions, which the verbs find by name
            from neuroshell.training.saved import model_files

            return list(dict.fromkeys([*held, *model_files(Path(self.settings["models.dir"]))]))
        return list(held)

    def notify(self, message: str, error: bool = True) -> None:
        """Queue a message from a background thread (a fault, or with ``error=False`` news such as a timed
        recording's end or an online prediction); at the prompt it is shown after the running command, or at
        once while the prompt waits (the toolbar shows the state at once); in a script, at once."""
        from loguru import logger

        logger.info("notice: {}", message)
        self.notices.append((message, error))
        # The shell prints them above the line being typed; a script (no one types) prints them as they come,
        # whole lines, so its output holds each online prediction in order.
        if self.notices_at_once or not self.interactive:
            self.show_notices()

    def show_notices(self) -> None:
        """Show what background work queued (see ``notify``), oldest first."""
        from neuroshell.sessions.output import Message

        while self.notices:
            message, error = self.notices.popleft()
            if error:
                self.ui.error(message)
            else:
                self.ui.show(Message(message, "success"))

    def report(self, message: str) -> None:
        """Show an error as one line (with the traceback first under ``--debug``) and log it whole; a very
        long one (a pasted argument) is shown elided."""
        from loguru import logger

        logger.info("error shown: {}", message)
        message = elide(message)
        if self.debug and self.last_traceback:
            self.ui.error(self.last_traceback.rstrip())
        self.ui.error(message)
        self.last_traceback = ""

    def run_line(self, line: str) -> None:
        """Run one command line, raising NeuroshellError (one line) on any failure. What it logs, and what
        the threads it starts log, is tagged with this session's id (see ``_start_log``)."""
        from loguru import logger

        with logger.contextualize(session=self.id):
            self._run_line(line)

    def _run_line(self, line: str) -> None:
        from loguru import logger

        line = line.strip()
        if not line or line.startswith("#"):
            return
        self.history.append(line)
        logger.info("command: {}", line)
        if line.startswith("!"):
            self._system(line[1:].strip())
            return
        words = line.split()
        if len(words) > 1 and words[-1] in ("--help", "?"):
            from neuroshell.sessions.verbs.core import verb_help

            self.ui.show(verb_help(self.registry.lookup(words[:-1]).verb, self.settings))
            return
        verb, args = self.registry.parse(line)
        self.running_verb = verb.name
        if self.interrupt_pending:
            raise KeyboardInterrupt
        fill_setting_defaults(verb, args, self.settings)
        self.refuse_endless_in_scripts(verb, args)
        try:
            result = verb.func(self, args)
        except NeuroshellError:
            self.last_traceback = traceback.format_exc()
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:
            self.last_traceback = traceback.format_exc()
            if isinstance(error, UserError):  # an engine's own one-line error for the user
                raise NeuroshellError(str(error)) from error
            if isinstance(error, OSError) and error.strerror:  # the file system said no: the user can act
                logger.opt(exception=error).info("{} met a file-system error", verb.name)
                where = f": {error.filename}" if error.filename else ""
                raise NeuroshellError(f"{verb.name}: {error.strerror}{where}") from error
            logger.opt(exception=error).error("internal error in {}", verb.name)
            raise NeuroshellError(
                f"{verb.name} failed: {type(error).__name__}: {error} "
                f"(run with --debug for the traceback; log: {self.log_path})"
            ) from error
        self.ui.show(result)
        if verb.replayable and self.script_depth == 0:  # a script's own lines replay through its `run` line
            self.replayable.append(line)

    def _system(self, command: str) -> None:
        """``!command``: a system command in the shell's terminal, as IPython and pgcli run them."""
        import subprocess
        import sys

        if not command:
            raise NeuroshellError("! needs a command, e.g. !ls")
        sys.stdout.flush()
        status = subprocess.run(command, shell=True, check=False).returncode
        if status:
            raise NeuroshellError(f"!{elide(command, 80)} exited with status {status}")

    def refuse_endless_in_scripts(self, verb, args, in_script: bool = False) -> None:
        """A verb that would run until Ctrl-C is refused where no one can press it: a script must end."""
        option = verb.endless_without
        scripted = in_script or not self.interactive or self.script_depth
        if option and getattr(args, option.replace("-", "_")) is None and scripted:
            raise NeuroshellError(f"{verb.name} needs --{option} in a script: it would run until Ctrl-C")

    def run_script(self, path: Path, keep_going: bool = False, params: dict[str, str] | None = None) -> int:
        """Replay a command script line by line in this session; returns the number of failed lines.

        ``${name}`` and ``${name:-default}`` in a line are replaced from ``params``. The script is read through
        first (``scriptcheck``): lines that cannot run are all said, and nothing runs. A failing line raises
        ScriptError ``FILE:LINE: message`` unless ``keep_going`` (which also skips the read-through).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise NeuroshellError(f"cannot read script {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise NeuroshellError(f"{path} is not a script: a script is UTF-8 text, one command per line") from None
        if self.script_depth >= MAX_SCRIPT_DEPTH:
            raise NeuroshellError(f"{path}: scripts nested more than {MAX_SCRIPT_DEPTH} deep (a script runs itself?)")
        from neuroshell.sessions.scriptcheck import script_problems

        problems = [] if keep_going else script_problems(self, path, text.splitlines(), params or {})
        if problems:  # found before the first line runs: nothing ran
            for problem in problems[:-1]:
                self.report(problem)
            raise ScriptError(problems[-1])
        failures = 0
        self.script_depth += 1
        try:
            for number, line in enumerate(text.splitlines(), start=1):
                if self.quit_requested:
                    break
                try:
                    self.run_line(expand(line, params or {}))
                except NeuroshellError as error:
                    message = str(error) if isinstance(error, ScriptError) else f"{path}:{number}: {error}"
                    if not keep_going:
                        raise ScriptError(message) from error
                    failures += 1
                    self.report(message)
        finally:
            self.script_depth -= 1
        return failures

    def facts(self) -> list[tuple[str, str, str]]:
        """Live facts for the toolbar: (label, text, level) with level ok | warn | bad."""
        facts = []
        for name, device in self.devices.items():
            state = device.state
            facts.append(("dev", f"{name} {state}", "ok" if state == "streaming" else "bad"))
        if self.recording is not None:
            level = "bad" if self.recording.fault else "warn"
            facts.append(("rec", self.recording.describe(short=True), level))
        if self.files:
            facts.append(("files", ", ".join(self.files), "ok"))
        if self.network is not None:
            facts.append(("net", self.network.name, "ok"))
        if self.view is not None:
            facts.append(("view", f"127.0.0.1:{self.view.server.port}", "ok"))
        return facts

    @property
    def files(self) -> dict[str, Any]:
        """The open files by their session name (the workspace's)."""
        return self.workspace.files

    @property
    def decoder(self) -> Any:
        """The ``decoding.live.LiveDecoding`` running on a device, or None."""
        return next((p.decoding for p in self.pipelines.values() if p.decoding is not None), None)

    def h5_locations(self) -> list[str]:
        """``NAME:/path`` of every group and dataset in the open files, for completion."""
        return self.workspace.locations()

    def close(self) -> None:
        """Stop the recording, disconnect devices and close files, keeping everything recorded, and say what
        was stopped."""
        from loguru import logger

        from neuroshell.sessions.output import Message

        if self.view is not None:
            self.view.close()
            self.view = None
        for pipeline in self.pipelines.values():
            pipeline.detach_decoding()
        if self.recording is not None:
            was_running = self.recording.running
            self.recording.stop()
            if was_running:
                self.ui.show(Message(f"stopped the recording on leaving: {self.recording.describe()}", "warning"))
            self.recording = None
        if self.kernel_warmup is not None:
            self.kernel_warmup.stop()
            self.kernel_warmup = None
        if self.devices:
            for name in list(self.devices):
                self.pipelines.pop(name).close()
            self.ui.show(Message(f"disconnected {', '.join(self.devices)}"))
        self.devices.clear()
        self.workspace.close()
        if self._log_sink is None:
            return  # closed before: everything above found nothing left to do
        with logger.contextualize(session=self.id):
            logger.info("session closed")
        logger.remove(self._log_sink)
        self._log_sink = None
