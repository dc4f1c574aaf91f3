"""The bottom toolbar: live facts of the session (devices, recording, open files, network)."""

from prompt_toolkit.formatted_text import FormattedText

LEVEL_CLASSES = {"ok": "class:toolbar.ok", "warn": "class:toolbar.warn", "bad": "class:toolbar.bad"}


def toolbar_text(session) -> FormattedText:
    """The session's live facts (``Session.facts``) as toolbar text, coloured by level."""
    facts = session.facts()
    if not facts:
        return FormattedText([("class:toolbar", " no devices, no files · help lists commands · Ctrl-D quits ")])
    parts = []
    for label, text, level in facts:
        parts.append(("class:toolbar.label", f" {label}: "))
        parts.append((LEVEL_CLASSES.get(level, "class:toolbar"), text))
        parts.append(("class:toolbar", " │"))
    return FormattedText(parts)
