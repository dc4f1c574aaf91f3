"""The interactive loop: read a line, run it, repeat. Everything else lives in its own module."""

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import CompleteStyle

from neuroshell.cli.completer import CommandCompleter
from neuroshell.cli.inputhook import figures_inputhook
from neuroshell.cli.interrupts import InterruptRouter
from neuroshell.cli.keybindings import PastedLines, shell_bindings
from neuroshell.cli.lexer import command_lexer
from neuroshell.cli.style import shell_style
from neuroshell.cli.suggest import SucceededSuggest
from neuroshell.cli.toolbar import toolbar_text
from neuroshell.sessions.output import Message
from neuroshell.sessions.registry import split_commands


def build_prompt(session, input=None, output=None, color: bool = True) -> PromptSession:
    """A PromptSession wired to the session: persistent history, completion, highlighting, toolbar."""
    lexer = command_lexer(session.registry.top_words)
    return PromptSession(
        message=[("class:prompt", "neuroshell> ")],
        history=FileHistory(str(session.home / "history")),
        auto_suggest=SucceededSuggest(session.home / "succeeded"),
        completer=CommandCompleter(session),
        complete_style=CompleteStyle.MULTI_COLUMN,
        complete_while_typing=True,
        lexer=PygmentsLexer(type(lexer)),
        style=shell_style(),
        include_default_pygments_style=False,
        bottom_toolbar=lambda: toolbar_text(session),
        refresh_interval=0.5,
        key_bindings=shell_bindings(),
        color_depth=None if color else _monochrome(),
        input=input,
        output=output,
    )


def _monochrome():
    from prompt_toolkit.output import ColorDepth

    return ColorDepth.MONOCHROME


def banner(session) -> str:
    """The one line the interactive shell starts with: version, where the log is, how to get help."""
    from neuroshell.common.version import neuroshell_version

    return f"neuroshell {neuroshell_version()} · help lists commands · Ctrl-D quits · log: {session.log_path}"


def run_shell(session, prompt: PromptSession) -> int:
    """Prompt until quit or Ctrl-D; returns 0. Ctrl-C while a verb runs cancels only that verb."""
    session.interactive = True
    session.ui.show(Message(banner(session)))
    interrupts = InterruptRouter(session, prompt)
    # What background work says (a decoder's predictions, a recording's end) is printed at once, above the
    # line being typed, which prompt-toolkit redraws as it was.
    with patch_stdout(raw=True), interrupts.installed():
        session.notices_at_once = True
        try:
            _loop(session, prompt, interrupts)
        finally:
            session.notices_at_once = False
    return 0


def _loop(session, prompt: PromptSession, interrupts: InterruptRouter) -> None:
    while not session.quit_requested:
        session.show_notices()
        session.interrupt_pending = False
        try:
            with interrupts.at_prompt():
                line = prompt.prompt(inputhook=figures_inputhook, handle_sigint=False)
        except KeyboardInterrupt:
            continue
        except EOFError:
            if may_leave(session):
                break
            continue
        if isinstance(line, PastedLines):
            _run_pasted(session, prompt, line)
            continue
        try:
            succeeded = _run_typed(session, line)
        except KeyboardInterrupt:  # a Ctrl-C in the instant between the command's end and its clean-up
            continue
        if succeeded and isinstance(prompt.auto_suggest, SucceededSuggest):
            prompt.auto_suggest.remember(line)
        if session.quit_requested and not may_leave(session):
            session.quit_requested = False


def _run_typed(session, line: str) -> bool:
    """A typed line: its commands (``a; b``) in turn, up to the first that fails."""
    return all(session.execute(command) for command in split_commands(line) or [""])


def _run_pasted(session, prompt: PromptSession, lines: list[str]) -> None:
    """Each pasted line in turn, shown after the prompt as if typed, until one fails (said as paste:LINE:)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip() or session.quit_requested:
            continue
        session.ui.show(Message(f"neuroshell> {line}"))
        prompt.history.append_string(line)
        try:
            if not session.execute(line, where=f"paste:{number}"):
                return
        except KeyboardInterrupt:
            return


def may_leave(session) -> bool:
    """Whether to leave now: at once, unless a recording runs; then ask once (leaving stops it cleanly)."""
    recording = session.recording
    if recording is None or not recording.running:
        return True
    minutes, seconds = divmod(int(recording.clock() - recording.started), 60)
    question = f"recording to {recording.path} for {minutes} min {seconds} s: stop it and quit? [y/N] "
    try:
        answer = PromptSession().prompt(question)
    except (EOFError, KeyboardInterrupt):
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    session.ui.show(Message("still recording; quit again (or record stop) when done"))
    return False
