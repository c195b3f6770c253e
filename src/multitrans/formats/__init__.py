"""Readers per file format; each turns source text into a `Document` and back via `Document.render`."""

from __future__ import annotations

from pathlib import PurePath

from ..document import Document
from ..errors import UserError, shorten

SUPPORTED = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
}


class UnsupportedFormat(UserError):
    """The file's extension names no format multitrans reads."""


def format_for(name: str, explicit: str | None = None) -> str:
    """The format of a file, from `explicit` or its extension."""
    if explicit:
        if explicit not in set(SUPPORTED.values()):
            raise UnsupportedFormat(f"unknown format '{shorten(explicit)}'; use one of: {', '.join(sorted(set(SUPPORTED.values())))}")
        return explicit
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormat(
            f"cannot read '{name}': unsupported file type '{suffix or '(none)'}'; "
            f"multitrans reads {', '.join(SUPPORTED)} files (or pass --format {'|'.join(dict.fromkeys(SUPPORTED.values()))})"
        )
    return SUPPORTED[suffix]


def parse(text: str, name: str, fmt: str) -> Document:
    """Split `text` into a Document with the reader for `fmt`."""
    if fmt == "markdown":
        from .markdown import read
    elif fmt == "html":
        from .html import read
    else:
        from .text import read
    return read(text, name)


def escape_text(text: str, fmt: str, kind: str) -> str:
    """Plain text (a translator's words from an XLIFF target) as it must be written into a block
    of `kind` in a `fmt` document so that it reads as that text and never as markup."""
    if fmt == "html":
        from .html import escape_text as escape
    elif fmt == "markdown":
        from .markdown import escape_text as escape
    else:
        return text
    return escape(text, kind)


def untranslated_note(document: Document) -> str | None:
    """The one sentence that says which text a reader sees `document`'s reader left in the source
    language by design (`Document.untranslated`), with why; None when it left none.  A note, not a
    problem: nothing failed, so it never changes a run's exit status."""
    if not document.untranslated:
        return None
    if document.format == "markdown":
        from .markdown import LEFT_VISIBLE
    else:
        from .html import LEFT_VISIBLE
    total = sum(n for _, n in document.untranslated)
    counts = ", ".join(f"{n} in {what}" for what, n in document.untranslated)
    why = " or ".join(dict.fromkeys(LEFT_VISIBLE[what] for what, _ in document.untranslated))
    return (f"{document.name}: {total} passage{'s' if total != 1 else ''} left in the source language by design: "
            f"{counts} (multitrans does not translate {why})")
