"""Plain-text articles: blocks are runs of lines between blank lines.

A line holding only whitespace (a no-break space included, as in the newsroom's
separator lines) counts as blank and stays in the layout, byte for byte.
"""

from __future__ import annotations

import re

from ..document import Document, TemplateBuilder

_BLANK = re.compile(r"^[\s\u00a0\u200b\ufeff]*$")
# Sentence-final and closing marks; the full-width and ideographic ones end Chinese and Japanese
# sentences (a line ending in "。" is a sentence, not a heading), danda and "؟" Indic and Arabic ones.
_CLOSING = tuple(".!?:;,…\"'»”’)]") + tuple("。！？：；，、．｡」』）】》〉।॥؟")
HEADING_MAX_CHARS = 80


def read(text: str, name: str) -> Document:
    builder = TemplateBuilder()
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if _BLANK.match(lines[i].rstrip("\r\n")):
            builder.literal(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and not _BLANK.match(lines[j].rstrip("\r\n")):
            j += 1
        _add_block(builder, "".join(lines[i:j]))
        i = j
    return builder.build(name, "text")


def _add_block(builder: TemplateBuilder, raw: str) -> None:
    """One block: its text without the surrounding whitespace, which stays in the layout."""
    core = raw.strip()
    lead = raw[: len(raw) - len(raw.lstrip())]
    trail = raw[len(raw.rstrip()) :]
    builder.literal(lead)
    builder.block(_kind(core), core)
    builder.literal(trail)


def _kind(text: str) -> str:
    """A short single line without closing punctuation reads as a heading."""
    if "\n" not in text and len(text) <= HEADING_MAX_CHARS and not text.endswith(_CLOSING):
        return "heading"
    return "paragraph"
