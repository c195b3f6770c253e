"""The plain data a document becomes once read: blocks to translate and the layout around them.

A document is kept as a *template*: literal layout strings (blank lines, separators,
Markdown markup, code blocks) interleaved with references to blocks.  Writing a
translation is then only `render(translated_texts)`, which is how every output keeps
the source's structure exactly: nothing but block texts can change.

The one exception is layout that must name the target language (HTML's `<html lang>`
and `dir`): a `Slot` in the template, which `render(texts, lang=...)` fills and which
renders as the source had it when no language is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]


@dataclass(frozen=True)
class Block:
    """One translatable unit: a heading, a paragraph, a list item, a table cell...

    `protected` holds (start, end) character spans of `text` that are markup rather
    than language (code spans, link targets, HTML tags) and must come out unchanged.
    """

    id: int
    kind: str
    text: str
    protected: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Slot:
    """Layout that depends on the target language, such as the value of `<html lang>`.

    Without a language it renders as `source`, so `Document.source` stays the input.
    For a target it is `template` with `{lang}` (the target's code, a valid BCP 47 tag)
    and `{dir}` (`ltr` or `rtl`) filled in; `ltr`, when set, is written instead for
    left-to-right targets, so that an attribute the source lacked (`dir="rtl"`) is only
    added where it is needed.
    """

    source: str
    template: str
    ltr: str | None = None

    def fill(self, lang: str | None) -> str:
        if lang is None:
            return self.source
        from .languages import is_rtl

        rtl = is_rtl(lang)
        if not rtl and self.ltr is not None:
            return self.ltr
        return self.template.format(lang=lang, dir="rtl" if rtl else "ltr")


@dataclass(frozen=True)
class Document:
    """A source document: its blocks plus the template that puts them back together."""

    name: str
    format: str
    blocks: tuple[Block, ...]
    template: tuple[str | int | Slot, ...] = field(repr=False)
    # Text a reader sees that the reader left as it is by design (form controls, media fallback,
    # raw HTML in Markdown): (what, passages) in document order, named as the reader names it
    # (`<select>`).  Never translated, only counted, so a run can say what stayed in the source.
    untranslated: tuple[tuple[str, int], ...] = ()

    def render(self, texts: Sequence[str], lang: str | None = None) -> str:
        """Rebuild the document with `texts[i]` in place of block i; `lang` fills the slots."""
        if len(texts) != len(self.blocks):
            raise ValueError(f"expected {len(self.blocks)} block texts, got {len(texts)}")
        return "".join(
            texts[p] if isinstance(p, int) else p.fill(lang) if isinstance(p, Slot) else p for p in self.template
        )

    @property
    def source(self) -> str:
        return self.render([b.text for b in self.blocks])


class TemplateBuilder:
    """Accumulates literals and blocks in document order; formats use it to build a Document."""

    def __init__(self) -> None:
        self._parts: list[str | int | Slot] = []
        self._blocks: list[Block] = []

    def literal(self, text: str) -> None:
        if not text:
            return
        if self._parts and isinstance(self._parts[-1], str):
            self._parts[-1] += text
        else:
            self._parts.append(text)

    def block(self, kind: str, text: str, protected: Sequence[Span] = ()) -> None:
        index = len(self._blocks)
        self._blocks.append(Block(index, kind, text, tuple(protected)))
        self._parts.append(index)

    def slot(self, slot: Slot) -> None:
        self._parts.append(slot)

    def build(self, name: str, fmt: str, untranslated: Mapping[str, int] | None = None) -> Document:
        left = tuple((what, n) for what, n in (untranslated or {}).items() if n)
        return Document(name, fmt, tuple(self._blocks), tuple(self._parts), left)


@dataclass(frozen=True)
class Piece:
    """A run of block text; only pieces with `translate` set go to an engine."""

    text: str
    translate: bool
    spans: tuple[str, ...] = ()  # protected substrings inside `text`, in order


@dataclass(frozen=True)
class Flag:
    """One quality problem of one segment (or block) in one target language."""

    code: str  # one of FLAG_CODES
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Hop:
    """One of the two translations a pivot route is built from (engines/pivot.py)."""

    engine: str
    model: str
    runtime: str | None
    text: str | None  # what this hop wrote for the block; None when it is not known (a remembered block)

    def as_dict(self) -> dict[str, str | None]:
        return {"engine": self.engine, "model": self.model, "runtime": self.runtime, "text": self.text}


@dataclass(frozen=True)
class BlockTranslation:
    text: str
    engine: str | None  # engine name, "copy" when the block was already in the target language, None if untranslated
    model: str | None
    note: str | None = None
    flags: tuple[Flag, ...] = ()  # quality problems that remain (see pipeline/quality.py)
    attempt: str | None = None  # "first", "safer_decoding", "fallback_route:<model>" or "human_edit"; None when no engine ran
    runtime: str | None = None  # what ran the model: "transformers-float32", "ctranslate2-int8"...; None for rule-based engines
    pieces: tuple[tuple[Piece, str], ...] = ()  # each source piece with its translation (XLIFF segments); () when no engine ran
    hops: tuple[Hop, ...] = ()  # a pivot's two translations, in order (engine "pivot"); () for any other engine
    decoding: Mapping[str, Any] | None = None  # the engine's decoding ({"beam": 4}); None where there is none


@dataclass
class DocumentResult:
    document: Document
    lang: str
    confidence: float
    block_langs: tuple[str, ...]
    translations: dict[str, list[BlockTranslation]]
    problems: list[str] = field(default_factory=list)
    # Text left in the source language by design (formats.untranslated_note): said, but no problem.
    notes: list[str] = field(default_factory=list)

    def text(self, lang: str) -> str:
        """The translated document in `lang`, in the source's format and layout."""
        return self.document.render([b.text for b in self.translations[lang]], lang=lang)

    def records(self) -> list[dict]:
        """One aligned record per source block, in order (the aligned JSONL)."""
        records = []
        for block, lang in zip(self.document.blocks, self.block_langs):
            translations = {}
            for tgt, blocks in self.translations.items():
                bt = blocks[block.id]
                entry = {"text": bt.text, "engine": bt.engine, "model": bt.model}
                if bt.runtime:
                    entry["runtime"] = bt.runtime
                if bt.decoding:
                    entry["decoding"] = dict(bt.decoding)
                if bt.note:
                    entry["note"] = bt.note
                entry["attempt"] = bt.attempt
                entry["flags"] = [f.as_dict() for f in bt.flags]
                if bt.hops:
                    entry["hops"] = [hop.as_dict() for hop in bt.hops]
                translations[tgt] = entry
            records.append({"id": block.id, "kind": block.kind, "source": {"lang": lang, "text": block.text},
                            "translations": translations})
        return records
