"""XLIFF 2.1 out and back in: machine translation handed to translators' CAT tools, their fixes taken back.

One file per target language.  Every block is a `<unit>`; every sentence that went to
an engine is a `<segment>` with the machine translation as its `<target>`; the text
between sentences (spaces, line breaks, numbers alone) is `<ignorable>`, copied as it
is.  Inline markup of the format (HTML tags, Markdown markers, code spans: a block's
`protected` spans) becomes `<ph>` placeholders whose original text sits in the unit's
`<originalData>`, so a translator moves a link but cannot break it.  Characters XML
cannot hold are written as `<cp hex="…"/>`, as XLIFF prescribes.

Why the file carries so much:

* `<skeleton>` holds the source document itself, so `import` rebuilds the translated
  document from the .xlf alone, with the same reader and therefore the same structure;
  it refuses a file whose units no longer match the blocks that reader finds.
* The machine translation is also kept as a Translation Candidates (`mtc`) match of
  each segment: a target that differs from it is a translator's edit, whatever state
  the CAT tool set.
* Engine, model, revision, runtime, quantization and decoding (the translation memory's
  key) are Metadata (`mda`) of each unit, so an edit is stored under exactly the key the
  next run looks up; engine, model, kind and quality flags are also `<note>`s, which
  CAT tools show to the translator.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..document import Block, Document, Span
from ..engines.identity import IDENTITY_FIELDS
from ..errors import UserError, shorten
from ..pipeline.segment import Piece, segment_block
from .xmltext import ILLEGAL_XML

XLIFF = "urn:oasis:names:tc:xliff:document:2.0"
MTC = "urn:oasis:names:tc:xliff:matches:2.0"
MDA = "urn:oasis:names:tc:xliff:metadata:2.0"
XML = "http://www.w3.org/XML/1998/namespace"
_NSMAP = {None: XLIFF, "mtc": MTC, "mda": MDA}


class XliffError(UserError):
    """An XLIFF file multitrans cannot import; the message says what and where."""


def _x(tag: str) -> str:
    return f"{{{XLIFF}}}{tag}"


@dataclass(frozen=True)
class Segment:
    """One piece of a block: a sentence for the translator (`translatable`) or text between sentences."""

    source: str
    target: str | None  # None: nothing translated it (no engine could serve the block)
    translatable: bool


def block_segments(block: Block, lang: str, translation: Any) -> list[Segment]:
    """A block's pieces with their translations, as the run produced them.

    `translation` is the block's BlockTranslation.  Its pieces are the run's own (the
    exact sentences the engines and the memory saw); without them (a copied or
    untranslated block) the block is cut here the way the run would have cut it.
    """
    pieces: Sequence[tuple[Piece, str]] = getattr(translation, "pieces", ()) or ()
    if pieces and "".join(t for _, t in pieces) == translation.text and \
            "".join(p.text for p, _ in pieces) == block.text:
        return [Segment(p.text, t, p.translate) for p, t in pieces]
    if translation.engine is None:
        return [Segment(p.text, None, p.translate) for p in segment_block(block.text, lang, block.protected)]
    if translation.engine == "copy" or translation.text == block.text:
        return [Segment(p.text, p.text, p.translate) for p in segment_block(block.text, lang, block.protected)]
    return [Segment(block.text, translation.text, True)]  # pieces unknown: the block is one segment


# --- export --------------------------------------------------------------------------------------


def export_xliff(result: Any, lang: str, identities: Mapping[tuple[str, str], Mapping[str, str]] | None = None) -> str:
    """The XLIFF 2.1 document for one target of a DocumentResult.

    `identities` maps (engine, model) as a BlockTranslation names them to that engine's
    identity fields (`Engine.identity().as_dict()`); without it, imported edits
    cannot go into the translation memory.
    """
    document: Document = result.document
    source_text = document.source
    if ILLEGAL_XML.search(source_text):
        bad = ILLEGAL_XML.search(source_text).group()  # type: ignore[union-attr]
        raise XliffError(f"{document.name} contains U+{ord(bad):04X}, which XML cannot hold; cannot write XLIFF")
    root = etree.Element(_x("xliff"), nsmap=_NSMAP)  # type: ignore[arg-type]
    root.set("version", "2.1")
    root.set("srcLang", result.lang)
    root.set("trgLang", lang)
    file = etree.SubElement(root, _x("file"), id="f1", original=document.name)
    file.set(f"{{{XML}}}space", "preserve")
    skeleton = etree.SubElement(file, _x("skeleton"))  # first: the schema puts it before module elements
    skeleton.text = source_text
    _metadata(file, {"format": document.format, "name": document.name})
    for block, block_lang in zip(document.blocks, result.block_langs):
        translation = result.translations[lang][block.id]
        identity = (identities or {}).get((translation.engine, translation.model))
        _unit(file, block, block_lang, translation, block_segments(block, block_lang, translation), identity)
    _indent(root)
    return etree.tostring(root, encoding="unicode", xml_declaration=False).join(
        ['<?xml version="1.0" encoding="UTF-8"?>\n', "\n"])


def _metadata(parent: etree._Element, values: Mapping[str, str]) -> None:
    metadata = etree.SubElement(parent, f"{{{MDA}}}metadata")
    group = etree.SubElement(metadata, f"{{{MDA}}}metaGroup", category="multitrans")
    for key, value in values.items():
        etree.SubElement(group, f"{{{MDA}}}meta", type=key).text = value


def _unit(file: etree._Element, block: Block, block_lang: str, translation: Any, segments: list[Segment],
          identity: Mapping[str, str] | None) -> None:
    unit = etree.SubElement(file, _x("unit"), id=f"u{block.id}", name=str(block.id))
    unit.set("type", f"mt:{block.kind}")
    meta = {"kind": block.kind, "source-language": block_lang}
    if identity:
        meta.update({k: str(identity[k]) for k in IDENTITY_FIELDS})
    matches = [(k, s) for k, s in enumerate(segments) if s.translatable and s.target is not None and translation.engine]
    if matches:
        holder = etree.SubElement(unit, f"{{{MTC}}}matches")
        for k, segment in matches:
            match = etree.SubElement(holder, f"{{{MTC}}}match", ref=f"#s{k}", type="mt")
            match.set("origin", translation.model or translation.engine)
            _plain(etree.SubElement(match, _x("source")), segment.source)
            _plain(etree.SubElement(match, _x("target")), segment.target or "")
    _metadata(unit, meta)
    notes = etree.SubElement(unit, _x("notes"))
    note_values = [("kind", block.kind), ("source-language", block_lang), ("engine", translation.engine or "none")]
    if translation.model:
        note_values.append(("model", translation.model))
    for number, hop in enumerate(getattr(translation, "hops", ()) or (), 1):  # a pivot: both hops, in order
        runtime = f", {hop.runtime}" if hop.runtime else ""
        middle = f": {hop.text}" if number == 1 and hop.text is not None else ""
        note_values.append((f"hop-{number}", f"{hop.engine} {hop.model}{runtime}{middle}"))
    if translation.note:
        note_values.append(("problem", translation.note))
    for flag in getattr(translation, "flags", ()) or ():
        note_values.append(("quality", f"{flag.code}: {flag.detail}"))
    for category, text in note_values:
        note = etree.SubElement(notes, _x("note"), category=category)
        if category in ("quality", "problem"):
            note.set("priority", "1")
        note.text = text
    data = etree.SubElement(unit, _x("originalData"))
    codes = _Codes(data)
    offset = 0
    for k, segment in enumerate(segments):
        spans = [(max(a, offset) - offset, min(b, offset + len(segment.source)) - offset)
                 for a, b in block.protected if a < offset + len(segment.source) and b > offset]
        offset += len(segment.source)
        kind, prefix = ("segment", "s") if segment.translatable else ("ignorable", "i")
        element = etree.SubElement(unit, _x(kind), id=f"{prefix}{k}")
        if segment.translatable:
            element.set("state", "initial" if segment.target is None else "translated")
        strings = codes.source(etree.SubElement(element, _x("source")), segment.source, spans)
        if segment.translatable and segment.target is not None:
            codes.target(etree.SubElement(element, _x("target")), segment.target, strings)
    if not len(data):
        unit.remove(data)


class _Codes:
    """Inline codes of one unit: `<ph>` per protected span, its text in `<originalData>`."""

    def __init__(self, data: etree._Element) -> None:
        self.data = data

    def source(self, element: etree._Element, text: str, spans: Sequence[Span]) -> list[tuple[str, str]]:
        """Write `text` with its spans as codes; returns (code id, span text) in order."""
        parts: list[str | tuple[str, str]] = []
        cursor = 0
        for start, end in spans:
            if start >= end:
                continue
            parts.append(text[cursor:start])
            parts.append(self._new(text[start:end]))
            cursor = end
        parts.append(text[cursor:])
        _write(element, parts)
        return [p for p in parts if isinstance(p, tuple)]

    def target(self, element: etree._Element, text: str, codes: Sequence[tuple[str, str]]) -> None:
        """The translation with the source's codes where their text is found, in order.

        A span the translation lacks (or moved before an earlier one) stays plain text,
        which `import` reads back unchanged: an untouched segment always round-trips."""
        parts: list[str | tuple[str, str]] = []
        cursor = 0
        for code, span in codes:
            at = text.find(span, cursor)
            if at < 0:
                continue
            parts += [text[cursor:at], (code, span)]
            cursor = at + len(span)
        parts.append(text[cursor:])
        _write(element, parts)

    def _new(self, span: str) -> tuple[str, str]:
        code = f"c{len(self.data) + 1}"
        item = etree.SubElement(self.data, _x("data"), id=f"d{code[1:]}")
        _write(item, [span])
        return code, span


def _write(element: etree._Element, parts: Iterable[str | tuple[str, str]]) -> None:
    """Mixed content: text, `<ph>` for codes, `<cp>` for characters XML cannot hold."""
    last: etree._Element | None = None

    def add(value: str) -> None:
        if not value:
            return
        if last is None:
            element.text = (element.text or "") + value
        else:
            last.tail = (last.tail or "") + value

    for part in parts:
        if isinstance(part, tuple):
            last = etree.SubElement(element, _x("ph"), id=part[0], dataRef=f"d{part[0][1:]}")
            continue
        cursor = 0
        for found in ILLEGAL_XML.finditer(part):
            add(part[cursor : found.start()])
            last = etree.SubElement(element, _x("cp"), hex=f"{ord(found.group()):04X}")
            cursor = found.end()
        add(part[cursor:])


def _plain(element: etree._Element, value: str) -> None:
    _write(element, [value])


def _indent(root: etree._Element) -> None:
    """Line breaks and indentation between structural elements only: never inside `source`,
    `target` or `data`, where whitespace is content."""
    content = {_x("source"), _x("target"), _x("data"), f"{{{MDA}}}meta", _x("note"), _x("skeleton")}

    def walk(element: etree._Element, depth: int) -> None:
        if element.tag in content or not len(element):
            return
        element.text = "\n" + "  " * (depth + 1)
        for child in element:
            walk(child, depth + 1)
            child.tail = "\n" + "  " * (depth + 1)
        element[-1].tail = "\n" + "  " * depth

    walk(root, 0)


# --- import --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A segment whose target differs from the machine translation it was exported with."""

    unit: int
    segment: str
    src: str
    tgt: str
    source: str
    machine: str
    edited: str
    identity: dict[str, str] | None


@dataclass
class Imported:
    document: Document
    lang: str
    texts: list[str]
    edits: list[Edit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The translated document, in the source's format and layout."""
        return self.document.render(self.texts, lang=self.lang)


def import_xliff(data: bytes | str, where: str = "the XLIFF file") -> Imported:
    """Rebuild the translated document from an XLIFF file written by `export_xliff`, maybe edited.

    Every unit must still match its block; an edited target must keep every inline
    code of its source (else the edit is refused, the machine translation kept, and a
    problem reported), since a lost `<ph>` would be a lost tag in the published page.
    """
    from ..formats import parse

    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XliffError(f"{where} is not well-formed XML: {exc}") from exc
    if root.tag != _x("xliff") or not (root.get("version") or "").startswith("2."):
        raise XliffError(f"{where} is not an XLIFF 2 document (root {root.tag!r}, version {root.get('version')!r})")
    src, tgt = root.get("srcLang") or "", root.get("trgLang") or ""
    if not tgt:
        raise XliffError(f"{where} names no target language (trgLang)")
    tgt = _language(tgt, "trgLang", where)
    src = _language(src, "srcLang", where) if src else src
    files = root.findall(_x("file"))
    if len(files) != 1:
        raise XliffError(f"{where} holds {len(files)} <file> elements; multitrans writes (and reads) one per file")
    file = files[0]
    meta = _meta(file)
    skeleton = file.find(_x("skeleton"))
    if skeleton is None or "format" not in meta:
        raise XliffError(f"{where} has no multitrans skeleton; only files written by `multitrans export` can be imported")
    document = parse(skeleton.text or "", meta.get("name") or file.get("original") or "document", meta["format"])
    units = list(file.iter(_x("unit")))
    if len(units) != len(document.blocks):
        raise XliffError(f"{where} has {len(units)} units but its document has {len(document.blocks)} blocks")
    imported = Imported(document, tgt, [])
    for block, unit in zip(document.blocks, units):
        imported.texts.append(_read_unit(block, unit, src, tgt, imported, where, document.format))
    return imported


def _language(code: str, attribute: str, where: str) -> str:
    """A language attribute as our code; the target names the output's folder, so it must be one."""
    from ..languages import normalize

    try:
        return normalize(code)
    except UserError as exc:
        raise XliffError(f"{where}: {attribute} {shorten(code, 40)!r} is not a language code") from exc


def _meta(element: etree._Element) -> dict[str, str]:
    found = element.find(f"{{{MDA}}}metadata")
    if found is None:
        return {}
    return {m.get("type"): m.text or "" for m in found.iter(f"{{{MDA}}}meta")}


def _read_unit(block: Block, unit: etree._Element, src: str, tgt: str, imported: Imported, where: str,
               fmt: str) -> str:
    """The unit's translated block.  A target's text is plain text, escaped for the document's
    format (a translator's "a < b" stays text, never a tag); only its inline codes carry
    markup, and only the source's codes, each at most once, are accepted."""
    from ..formats import escape_text

    def escape(text: str) -> str:
        return escape_text(text, fmt, block.kind)

    uid = unit.get("id")
    data: dict[str, str] = {}
    holder = unit.find(_x("originalData"))
    for item in holder if holder is not None else ():
        data[item.get("id")] = _decode(item, {}, where, uid)
    machine: dict[str, list[tuple[str, bool]]] = {}
    matches = unit.find(f"{{{MTC}}}matches")
    for match in matches if matches is not None else ():
        target = match.find(_x("target"))
        if match.get("type") == "mt" and target is not None:
            machine[(match.get("ref") or "").lstrip("#")] = _parts(target, {}, where, uid)
    meta = _meta(unit)
    identity = {k: meta[k] for k in IDENTITY_FIELDS if k in meta} if "engine" in meta else None
    sources: list[str] = []
    targets: list[str] = []
    for child in unit:
        if child.tag not in (_x("segment"), _x("ignorable")):
            continue
        source_el, target_el = child.find(_x("source")), child.find(_x("target"))
        if source_el is None:
            raise XliffError(f"{where}: unit {uid} has a {etree.QName(child).localname} without <source>")
        source = _decode(source_el, data, where, uid)
        sources.append(source)
        if target_el is None:
            targets.append(source)
            continue
        sid = child.get("id") or ""
        spans = [value for value, code in _parts(source_el, data, where, uid) if code]
        mt = _render(machine[sid], spans, escape) if sid in machine else None
        foreign = _foreign_codes(source_el, target_el)
        if foreign:
            if child.tag != _x("segment") or mt is None:
                raise XliffError(f"{where}: unit {uid} {etree.QName(child).localname} {sid}: the target holds "
                                 f"inline code(s) {', '.join(foreign)} its source does not (or more than once)")
            imported.problems.append(
                f"{where}: unit {uid} segment {sid}: the edit adds inline code(s) {', '.join(foreign)} "
                "the source does not hold (or repeats one); the machine translation was kept")
            targets.append(mt)
            continue
        target = _render(_parts(target_el, data, where, uid), spans, escape)
        if child.tag == _x("segment") and mt is not None and target != mt:
            missing = {i for i, _ in _code_refs(source_el)} - {i for i, _ in _code_refs(target_el)}
            if missing:
                imported.problems.append(
                    f"{where}: unit {uid} segment {sid}: the edit drops inline code(s) {', '.join(sorted(missing))} "
                    "of the source; the machine translation was kept")
                target = mt
            else:
                imported.edits.append(Edit(block.id, sid, meta.get("source-language") or src, tgt, source, mt, target,
                                           identity))
        targets.append(target)
    if "".join(sources) != block.text:
        raise XliffError(f"{where}: unit {uid}'s source no longer matches block {block.id} of the document")
    return "".join(targets)


def _code_refs(element: etree._Element) -> list[tuple[str | None, str | None]]:
    return [(ph.get("id"), ph.get("dataRef")) for ph in element.iter(_x("ph"))]


def _foreign_codes(source: etree._Element, target: etree._Element) -> list[str]:
    """The target's inline codes that are not the source's, or that it uses more than once: a
    code carries raw markup (its original data), so an invented or doubled one is refused."""
    allowed = set(_code_refs(source))
    seen: set[tuple[str | None, str | None]] = set()
    foreign = []
    for ref in _code_refs(target):
        if ref not in allowed or ref in seen:
            foreign.append(str(ref[0]))
        seen.add(ref)
    return foreign


def _decode(element: etree._Element, data: Mapping[str, str], where: str, uid: str | None) -> str:
    """Mixed content back to text: `<ph>` to its original data, `<cp>` to its character; other
    inline elements (a CAT tool's `<mrk>`, `<pc>`) contribute their text."""
    return "".join(value for value, _ in _parts(element, data, where, uid))


def _parts(element: etree._Element, data: Mapping[str, str], where: str, uid: str | None) -> list[tuple[str, bool]]:
    """Mixed content as (text, is the original data of an inline code), in order."""
    out = [(element.text or "", False)]
    for child in element:
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name == "ph":
            ref = child.get("dataRef")
            if ref not in data:
                raise XliffError(f"{where}: unit {uid}: <ph id={child.get('id')!r}> refers to unknown data {ref!r}")
            out.append((data[ref], True))
        elif name == "cp":
            out.append((_code_point(child.get("hex"), where, uid), False))
        elif name:
            out += _parts(child, data, where, uid)
        out.append((child.tail or "", False))
    return out


def _render(parts: Sequence[tuple[str, bool]], spans: Sequence[str], escape: Callable[[str], str]) -> str:
    """A target as block text: codes as their original data, the rest as plain text escaped for
    the format, except where it spells one of the source's protected spans not used yet
    (export leaves a span plain text when the translation moved it, and the machine
    translation match holds no codes).  Every span of the source passes at most once."""
    left = Counter(spans)
    left.subtract(value for value, code in parts if code)
    known = sorted((span for span, n in left.items() if n > 0 and span), key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, known))) if known else None
    out = []
    for value, code in parts:
        if code:
            out.append(value)
            continue
        cursor = 0
        for found in pattern.finditer(value) if pattern is not None else ():
            if left[found.group()] <= 0:
                continue
            left[found.group()] -= 1
            out += [escape(value[cursor : found.start()]), found.group()]
            cursor = found.end()
        out.append(escape(value[cursor:]))
    return "".join(out)


def _code_point(value: str | None, where: str, uid: str | None) -> str:
    try:
        character = chr(int(value or "", 16))
    except (ValueError, OverflowError) as exc:
        raise XliffError(f"{where}: unit {uid}: <cp hex={shorten(value or '', 20)!r}> is not a Unicode code point "
                         "in hexadecimal") from exc
    if "\ud800" <= character <= "\udfff":  # half of a UTF-16 pair: no text can hold it alone
        raise XliffError(f"{where}: unit {uid}: <cp hex={value!r}> is a lone surrogate, not a character")
    return character


def iter_segments(result: Any, lang: str) -> Iterator[tuple[Block, str, Segment]]:
    """Every translatable segment of one target, with its block and the block's language."""
    for block, block_lang in zip(result.document.blocks, result.block_langs):
        for segment in block_segments(block, block_lang, result.translations[lang][block.id]):
            if segment.translatable:
                yield block, block_lang, segment
