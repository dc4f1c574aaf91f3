"""A script read through before its first line runs: every line that cannot run (an unknown verb or option, a
value of the wrong unit, a ``${name}`` without a value, a verb that would wait for Ctrl-C) and every parameter
the script never uses, each said as ``FILE:LINE: ...``. Files a line names need not exist yet: an earlier
line may make them."""

from contextvars import ContextVar

from neuroshell.sessions.errors import NeuroshellError

# While a script is checked, paths are not looked up on disk (argtypes.FilePath).
CHECKING = ContextVar("checking_script", default=False)


def script_problems(session, path, lines: list[str], params: dict[str, str]) -> list[str]:
    """``FILE:LINE: message`` for each line that would fail before running, and for unused parameters."""
    from neuroshell.sessions.registry import fill_setting_defaults
    from neuroshell.sessions.session import PARAMETER, expand

    problems, used = [], set()
    token = CHECKING.set(True)
    try:
        for number, line in enumerate(lines, start=1):
            used.update(match.group(1) for match in PARAMETER.finditer(line))
            text = line.strip()
            if not text or text.startswith(("#", "!")):
                continue
            try:
                words = expand(text, params).split()
                if len(words) > 1 and words[-1] in ("--help", "?"):
                    session.registry.lookup(words[:-1])
                    continue
                verb, args = session.registry.parse(expand(text, params))
                if verb.name == "set":
                    session.settings.convert(args.key, args.value)
                fill_setting_defaults(verb, args, session.settings)
                session.refuse_endless_in_scripts(verb, args, in_script=True)
            except NeuroshellError as error:
                problems.append(f"{path}:{number}: {error}")
    finally:
        CHECKING.reset(token)
    unused = sorted(set(params) - used)
    if unused:
        takes = ", ".join(sorted(used)) or "no parameters"
        problems.append(f"{path}: parameter {', '.join(unused)} is not used by the script (it takes: {takes})")
    return problems
