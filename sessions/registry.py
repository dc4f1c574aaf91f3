"""The verb registry: each verb declares its arguments once; parsing, completion and help read that.

A verb is a thin function ``func(session, args)`` returning something to show (see ``output``).
Verbs with sub-verbs (``record start``) are registered under their full two-word name.
"""

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, NamedTuple

from neuroshell.common.errors import did_you_mean
from neuroshell.sessions.argtypes import TEXT, ArgType, FromSetting
from neuroshell.sessions.errors import UsageError

REQUIRED = object()


@dataclass
class Param:
    """One argument of a verb: a positional word, an ``--option VALUE`` or a ``--flag``."""

    name: str
    type: ArgType = TEXT
    help: str = ""
    default: Any = REQUIRED
    option: bool = False
    flag: bool = False
    rest: bool = False  # a positional that takes all remaining words (a list)
    repeat: bool = False  # an option that may be given several times (a list)

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.flag

    def usage(self) -> str:
        if self.flag:
            return f"[--{self.name}]"
        if self.option:
            text = f"--{self.name} {self.type.label}" + (" ..." if self.repeat else "")
            return text if self.required else f"[{text}]"
        word = self.name.upper() + (" ..." if self.rest else "")
        return word if self.required else f"[{word}]"


def Arg(name: str, type: ArgType = TEXT, help: str = "", default: Any = REQUIRED, rest: bool = False) -> Param:
    """A positional parameter (``rest``: it takes all remaining words as a list)."""
    return Param(name, type, help, default, rest=rest)


def Opt(name: str, type: ArgType = TEXT, help: str = "", default: Any = None, repeat: bool = False) -> Param:
    """An ``--option VALUE`` parameter with its default (a value, the text a user would type, or ``FromSetting``);
    with ``repeat``, it may be given several times and its value is the list of them."""
    return Param(name, type, help, default, option=True, repeat=repeat)


def Flag(name: str, help: str = "") -> Param:
    """A ``--flag`` parameter: False unless given."""
    return Param(name, TEXT, help, False, option=True, flag=True)


@dataclass
class Verb:
    """A command: its name, one-line summary, function and declared parameters."""

    name: str
    summary: str
    func: Callable[..., Any]
    params: tuple[Param, ...] = ()
    keyvalues: str | None = None  # help for trailing key=value words, when the verb takes them
    group: str = "core"
    replayable: bool = True  # whether save-history keeps it
    details: str | Callable[[], str] = ""  # more help; a callable is asked when help is shown
    # The option that bounds a verb which otherwise runs until Ctrl-C: a script must give it.
    endless_without: str | None = None

    @property
    def positionals(self) -> list[Param]:
        return [p for p in self.params if not p.option]

    @property
    def options(self) -> dict[str, Param]:
        return {p.name: p for p in self.params if p.option}

    def usage(self) -> str:
        parts = [self.name] + [p.usage() for p in self.params]
        if self.keyvalues:
            parts.append("[key=value ...]")
        return " ".join(parts)


class Found(NamedTuple):
    """A verb found by ``Registry.lookup``: the ``verb`` and how many of the words named it (``words_used``)."""

    verb: Verb
    words_used: int


@dataclass
class Registry:
    """Every verb and alias the shell knows, looked up by their first one or two words."""

    verbs: dict[str, Verb] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(self, verb: Verb, aliases: tuple[str, ...] = ()) -> None:
        """Register ``verb`` under its name and ``aliases``."""
        self.verbs[verb.name] = verb
        for alias in aliases:
            self.aliases[alias] = verb.name

    @property
    def top_words(self) -> list[str]:
        """Every first word the prompt accepts: verbs, verb groups and aliases."""
        return sorted({name.split()[0] for name in self.verbs} | set(self.aliases))

    def subverbs(self, word: str) -> list[str]:
        """The second words of the verbs that start with ``word`` (``record`` -> start, status, stop)."""
        return sorted(name.split()[1] for name in self.verbs if " " in name and name.split()[0] == word)

    def lookup(self, words: list[str]) -> Found:
        """Find the verb named by the first one or two words: it, and how many words it used."""
        if not words:
            raise UsageError("empty command")
        first = self.aliases.get(words[0], words[0])
        if len(words) > 1 and f"{first} {words[1]}" in self.verbs:
            return Found(self.verbs[f"{first} {words[1]}"], 2)
        if first in self.verbs:
            return Found(self.verbs[first], 1)
        subs = self.subverbs(first)
        if subs:
            given = f" '{words[1]}'" if len(words) > 1 else ""
            raise UsageError(f"'{first}' needs a sub-verb{given and ' (not' + given + ')'}: {', '.join(subs)}")
        hint = did_you_mean(words[0], self.top_words)
        raise UsageError(f"unknown command '{words[0]}'{hint}: type 'help' for the list of commands")

    def parse(self, line: str) -> tuple[Verb, SimpleNamespace]:
        """Parse one command line: (verb, arguments), or a UsageError that says what is wrong."""
        return parse_words(self, tokenize(line))


def tokenize(line: str) -> list[str]:
    """Split a command line into words as a POSIX shell does (quotes, ``#`` comments)."""
    try:
        return shlex.split(line, comments=True)
    except ValueError as error:
        raise UsageError(f"cannot read the command: {error}") from None


def parse_words(registry: Registry, words: list[str]) -> tuple[Verb, SimpleNamespace]:
    """Match words against the verb they name: returns the verb and its arguments, converted and checked."""
    verb, used = registry.lookup(words)
    args = SimpleNamespace(kv={})
    for param in verb.params:
        setattr(args, param.dest, [] if param.rest or param.repeat else _default(verb, param))
    positionals = verb.positionals
    options = verb.options
    seen: set[str] = set()
    pending = words[used:]
    index = 0
    while index < len(pending):
        word = pending[index]
        index += 1
        if word.startswith("--") and len(word) > 2:
            name, has_value, value = word[2:].partition("=")
            param = options.get(name)
            if param is None:
                known = ", ".join(f"--{n}" for n in options) or "none"
                hint = did_you_mean(f"--{name}", [f"--{n}" for n in options])
                raise UsageError(f"{verb.name}: unknown option --{name}{hint} (options: {known})")
            if param.flag:
                if has_value:
                    raise UsageError(f"{verb.name}: --{name} takes no value")
                setattr(args, param.dest, True)
                continue
            if not has_value:
                if index >= len(pending):
                    raise UsageError(f"{verb.name}: --{name} needs a value ({param.type.describe()})")
                value = pending[index]
                index += 1
            if param.repeat:
                getattr(args, param.dest).append(_convert(verb, param, value))
            else:
                setattr(args, param.dest, _convert(verb, param, value))
            seen.add(param.name)
            continue
        if verb.keyvalues and "=" in word and not word.startswith("="):
            key, _, value = word.partition("=")
            args.kv[key] = value
            continue
        if not positionals:
            raise UsageError(f"{verb.name}: unexpected word '{word}' (usage: {verb.usage()})")
        param = positionals[0]
        if param.rest:
            getattr(args, param.dest).append(_convert(verb, param, word))
            continue
        positionals.pop(0)
        setattr(args, param.dest, _convert(verb, param, word))
        seen.add(param.name)
    missing = [p for p in verb.params if p.required and p.name not in seen and not p.rest]
    if missing:
        raise UsageError(f"{verb.name}: missing {missing[0].usage()} (usage: {verb.usage()})")
    return verb, args


def _default(verb: Verb, param: Param) -> Any:
    """A parameter's default: declared as a value, or as the text a user would type (converted by its type
    as if typed, so ``"-100ms:500ms"`` becomes a span), or ``FromSetting`` (the session fills it in)."""
    if param.default is REQUIRED:
        return None
    if isinstance(param.default, str) and type(param.type) is not ArgType:
        return _convert(verb, param, param.default)
    return param.default


def _convert(verb: Verb, param: Param, text: str) -> Any:
    try:
        return param.type.convert(text)
    except UsageError as error:
        label = f"--{param.name}" if param.option else param.name.upper()
        raise UsageError(f"{verb.name} {label}: {error}") from None


def fill_setting_defaults(verb: Verb, args: SimpleNamespace, settings) -> None:
    """Options left at a ``FromSetting`` default take that setting's current value."""
    for param in verb.params:
        if isinstance(getattr(args, param.dest, None), FromSetting):
            setattr(args, param.dest, settings[param.default.key])


def split_commands(text: str) -> list[str]:
    """Split ``"a; b 'x;y'"`` at semicolons outside quotes: ``["a", "b 'x;y'"]``."""
    commands, current, quote = [], [], None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ";":
            commands.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    commands.append("".join(current).strip())
    return [c for c in commands if c]


class VerbSet:
    """The verbs of one module, declared with the ``verb`` decorator and added to a registry later."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.entries: list[tuple[Verb, tuple[str, ...]]] = []

    def verb(
        self,
        name: str,
        summary: str,
        *params: Param,
        keyvalues: str | None = None,
        aliases: tuple[str, ...] = (),
        replayable: bool = True,
        details: str | Callable[[], str] = "",
        endless_without: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring a verb: its name, summary and parameters, in one place."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            verb = Verb(
                name,
                summary,
                func,
                params,
                keyvalues,
                self.group,
                replayable,
                details,
                endless_without=endless_without,
            )
            self.entries.append((verb, aliases))
            return func

        return register

    def install(self, registry: Registry) -> None:
        """Add this module's verbs to ``registry``."""
        for verb, aliases in self.entries:
            registry.add(verb, aliases)
