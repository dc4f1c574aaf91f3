"""The ``neuroshell`` command: the shell, ``-c "cmd; cmd"``, or a script; exit 0 ok, 1 failed, 2 usage."""

import argparse
import contextlib
import gc
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The ``neuroshell`` command line: a script and its parameters, or ``-c``, and the flags."""
    parser = argparse.ArgumentParser(
        prog="neuroshell",
        description="Interactive workbench for neuroscience labs: record, simulate, train, plot.",
    )
    parser.add_argument("script", nargs="?", help="a command script (.nsh) to replay, then exit; 'demo' for the demo")
    parser.add_argument("params", nargs="*", help="script parameters NAME=VALUE (${NAME} in the script)")
    parser.add_argument("-c", "--command", help='commands to run, separated by ";", then exit')
    parser.add_argument("--keep-going", action="store_true", help="in a script, go on after a failing line")
    parser.add_argument("--no-color", action="store_true", help="no colours, even on a terminal")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks of internal errors")
    parser.add_argument("--version", action=_PrintVersion, nargs=0, help="print the version and exit")
    args = parser.parse_args(argv)
    if args.script and args.command:
        parser.error("give either a script or -c, not both")
    bad = [p for p in args.params if "=" not in p]
    if bad:
        parser.error(f"script parameters are NAME=VALUE (got {bad[0]})")
    args.params = dict(p.split("=", 1) for p in args.params)
    return args


class _PrintVersion(argparse.Action):
    """``--version``: looked up only when asked (reading package metadata costs every start 25 ms)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from neuroshell.common.version import neuroshell_version

        print(f"neuroshell {neuroshell_version()}")
        parser.exit()


def demo_script() -> Path:
    """The demo script shipped with neuroshell: examples/demo.nsh, which sessions/demo.nsh links to so that
    the package carries it (one source)."""
    from importlib.resources import files

    return Path(str(files("neuroshell.sessions") / "demo.nsh"))


def main(argv: list[str] | None = None) -> int:
    """Run the shell, ``-c`` commands or a script in a new session; returns the exit status."""
    args = parse_arguments(argv)
    color = not args.no_color and "NO_COLOR" not in os.environ
    from loguru import logger

    from neuroshell.sessions.imports import ShieldedImports

    ShieldedImports().install()  # a Ctrl-C never leaves torch, numba or mne half imported

    from neuroshell.cli.nativelog import native_output_logged
    from neuroshell.cli.render import RichUI
    from neuroshell.sessions import Session

    with contextlib.suppress(ValueError):
        logger.remove(0)  # loguru's default stderr handler; sessions add their own files
    # Warnings reach the console as one line; tracebacks go only to the session's log file (--debug shows them).
    # sys.stderr is looked up at each message: native_output_logged moves it off descriptor 2.
    logger.add(
        lambda message: sys.stderr.write(message),
        level="WARNING",
        format="<level>{level}</level>: {message}",
        colorize=color and sys.stderr.isatty(),
        filter=lambda record: record["exception"] is None,
    )
    ui = RichUI(color=color)
    session = Session(ui=ui, debug=args.debug)
    ui.command_words = session.registry.top_words
    with native_output_logged(session.log_path):
        try:
            return _run(session, args, color)
        finally:
            session.close()


def _run(session, args: argparse.Namespace, color: bool) -> int:
    """Run what the command line asked for: ``-c`` commands, a script, or the interactive shell."""
    from neuroshell.sessions.errors import NeuroshellError
    from neuroshell.sessions.registry import split_commands

    if args.command is not None:
        return _run_commands(session, split_commands(args.command))
    if args.script:
        script = Path(args.script)
        if args.script == "demo" and not script.exists():
            script = demo_script()
        if not script.is_file():
            print(f"neuroshell: no such script: {script}", file=sys.stderr)
            return EXIT_USAGE
        try:
            failures = session.run_script(script, keep_going=args.keep_going, params=args.params)
        except NeuroshellError as error:
            session.report(str(error))
            return EXIT_FAILED
        return EXIT_FAILED if failures else EXIT_OK
    from neuroshell.cli.shell import build_prompt, run_shell

    return run_shell(session, build_prompt(session, color=color))


def _run_commands(session, commands: list[str]) -> int:
    for command in commands:
        if session.quit_requested:
            break
        if not session.execute(command):
            return EXIT_FAILED
    return EXIT_OK


def run() -> None:
    """The ``neuroshell`` command: main(), then exit. By then the session has closed every file and device;
    freezing the heap spares the interpreter's final garbage collections over it, which take a few tenths of a
    second once numba is loaded (the objects go away with the process either way)."""
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
