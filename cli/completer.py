"""Completion that knows the grammar: verbs, sub-verbs, options, choices, files and HDF5 paths."""

import re
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from neuroshell.sessions.errors import UsageError
from neuroshell.sessions.registry import Param, Verb


class CommandCompleter(Completer):
    """Completes from the session's verb registry; every suggestion comes from a verb's declaration."""

    def __init__(self, session) -> None:
        self.session = session
        self.paths = PathCompleter(expanduser=True)
        self._disk_cache: tuple = (None, [])  # (file, its stamp) -> its paths: completion asks on every key

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        """Completions for the word at the cursor, from the verb's declaration and the session's live names."""
        command = document.text_before_cursor.rsplit(";", 1)[-1]
        before, typed, current = typed_words(command)
        for completion in self._complete(before, current):
            full = current[: len(current) + completion.start_position] + completion.text
            if typed == current and full == quoted(full):
                yield completion
            else:  # the word was typed quoted or escaped, or needs it: replace it whole, escaped as bash does
                yield Completion(
                    quoted(full), -len(typed), display=completion.display, display_meta=completion.display_meta
                )

    def _complete(self, before: list[str], current: str) -> Iterable[Completion]:
        registry = self.session.registry
        if not before:
            yield from _matching(registry.top_words, current, meta=self._summary)
            return
        if len(before) == 1 and registry.subverbs(before[0]):
            word = registry.aliases.get(before[0], before[0])
            if f"{word} {current}" not in registry.verbs or not current:
                yield from _matching(registry.subverbs(word), current)
                if word not in registry.verbs:
                    return
        try:
            verb, used = registry.lookup(before)
        except UsageError:
            return
        arguments = before[used:]
        if current.startswith("-"):
            given = {w[2:].split("=")[0] for w in arguments if w.startswith("--")}
            names = [f"--{name}" for name in verb.options if name not in given]
            yield from _matching(names, current, meta=lambda n: verb.options[n[2:]].help)
            return
        param = self._param_at(verb, arguments)
        if param is not None:
            yield from self._values(verb, param, arguments, current)

    def _summary(self, word: str) -> str:
        registry = self.session.registry
        verb = registry.verbs.get(registry.aliases.get(word, word))
        return verb.summary if verb else "sub-verbs: " + ", ".join(registry.subverbs(word))

    @staticmethod
    def _param_at(verb: Verb, arguments: list[str]) -> Param | None:
        """The parameter the next word fills: an option's value, or the next positional."""
        if arguments and arguments[-1].startswith("--") and "=" not in arguments[-1]:
            option = verb.options.get(arguments[-1][2:])
            if option is not None and not option.flag:
                return option
        count = 0
        skip = False
        for word in arguments:
            if skip:
                skip = False
                continue
            if word.startswith("--"):
                option = verb.options.get(word[2:].split("=")[0])
                skip = option is not None and not option.flag and "=" not in word
                continue
            if "=" not in word or not verb.keyvalues:
                count += 1
        positionals = verb.positionals
        if not positionals:
            return None
        if count < len(positionals):
            return positionals[count]
        return positionals[-1] if positionals[-1].rest else None

    def _values(self, verb: Verb, param: Param, arguments: list[str], current: str) -> Iterable[Completion]:
        kind = param.type.completes
        if kind == "choice":
            yield from _matching(param.type.choices, current)
        elif kind == "verb":
            yield from _matching(self.session.registry.top_words, current)
        elif kind == "setting":
            settings = self.session.settings
            yield from _matching(list(settings.declared), current, meta=lambda k: settings.declared[k].help)
        elif kind and kind.startswith("session:"):
            yield from _matching(self.session.names(kind.split(":", 1)[1]), current)
        elif kind == "h5":
            yield from _matching(self._h5_locations(current), current)
            yield from self._files(current)
        elif kind == "file":
            yield from self._files(current, getattr(param.type, "suffixes", ()))
        elif verb.name == "set" and param.name == "value" and arguments:
            setting = self.session.settings.declared.get(arguments[0])
            if setting is not None:
                yield from _matching(getattr(setting.type, "choices", ()), current)

    def _h5_locations(self, current: str) -> list[str]:
        """Paths inside the open files, and inside the file on disk being typed (``FILE:/...``)."""
        known = self.session.h5_locations()
        file, colon, _ = current.rpartition(":")
        if colon and file and not any(k.startswith(f"{file}:") for k in known):
            key = (file, _stamp(file))
            if self._disk_cache[0] != key:
                self._disk_cache = (key, self.session.workspace.locations_in(file))
            known = known + self._disk_cache[1]
        return known

    def _files(self, current: str, suffixes: tuple[str, ...] = ()) -> Iterable[Completion]:
        found = self.paths.get_completions(Document(current, len(current)), CompleteEvent())
        if not suffixes:
            yield from found
            return
        for completion in found:
            full = current[: len(current) + completion.start_position] + completion.text
            if full.endswith("/") or Path(full).expanduser().is_dir() or full.lower().endswith(suffixes):
                yield completion
        stem, dot, typed = current.rpartition(".")
        base = stem if dot and "/" not in typed else current
        if base and not base.endswith("/"):
            for suffix in suffixes:
                if (base + suffix).startswith(current) and base + suffix != current:
                    yield Completion(base + suffix, start_position=-len(current), display_meta="format")


def typed_words(command: str) -> tuple[list[str], str, str]:
    """The words before the cursor as the command line reads them (quotes and backslashes undone), the last
    word as typed and as read: ``'plot "my d'`` -> ``(["plot"], '"my d', "my d")``."""
    words, typed, word, quote, escaped = [], "", "", None, False
    for char in command:
        if escaped:
            word, escaped = word + char, False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = None if char == quote else quote
            word += "" if quote is None else char
        elif char in "'\"":
            quote = char
        elif char.isspace():
            if typed:
                words.append(word)
            typed, word = "", ""
            continue
        else:
            word += char
        typed += char
    return words, typed, word


def quoted(word: str) -> str:
    """``word`` with the characters that would split or end it escaped: ``my dir/`` -> ``my\\ dir/``."""
    return re.sub(r"([\s'\"\\#])", r"\\\1", word)


def _matching(candidates: Iterable[str], current: str, meta=None) -> Iterable[Completion]:
    for candidate in candidates:
        if candidate.startswith(current):
            yield Completion(candidate, start_position=-len(current), display_meta=meta(candidate) if meta else None)


def _stamp(file: str) -> tuple[int, int] | None:
    try:
        status = Path(file).expanduser().stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
