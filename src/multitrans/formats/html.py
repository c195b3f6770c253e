"""HTML articles (.html, .htm), a whole page or a fragment, parsed with lxml.

lxml (libxml2, whose tokenizer follows HTML5) builds the tree, so the reader sees the
page as a browser's parser does; the template is that tree serialized once.  Tags,
attributes, link targets, comments, scripts, styles and code come out as the parser
read them: attribute quotes become `"`, named character references become characters
(`&nbsp;` is U+00A0; only `&amp;`, `&lt;`, `&gt;` and `&quot;` stay references) and
implied end tags (`</p>`) are written out.  Nothing that a browser renders changes.

What is translated:

* the text of block elements (headings, paragraphs, list items, table cells,
  captions, blockquotes, and any other container holding text directly), one block
  per run of inline content between block-level children;
* the page `<title>`;
* `alt` (images, image maps, image inputs), `title` and `placeholder` (inputs, text areas)
  attribute values.

Inline markup inside a run (`<a href=…>`, `</a>`, `<em>`, `<br>`…) stays in the block
text, in place, as protected spans (tag-aware masking, as in Firefox's translations:
the model sees the tags and the sentence around them, and a sentence whose tags came
back changed is translated around them by the runner).  Inline code (`<code>`, `<kbd>`,
`<samp>`, `<var>`), inline SVG and MathML, comments and anything marked
`translate="no"` (or `class="notranslate"`) are protected whole; only the HTML inside an
inline SVG's `<foreignObject>`, which a browser shows as page text, is translated (the SVG
then ends the block, like any block-level element).  `<script>`, `<style>`,
`<pre>`, `<template>`, `<textarea>` and embedded objects are never touched.

Of what is never touched, the text a reader sees is counted (`Document.untranslated`, so
that a run can say what stayed in the source language): the options of a `<select>` and
the content of a `<textarea>` (a form submits them: an option without a `value` sends its
text), and the fallback of `<object>`, `<canvas>`, `<video>` and `<audio>`.  Scripts,
styles and templates are not reader text; `<pre>` holds code or preformatted output and,
like Markdown's code blocks, is neither translated nor counted; an `<iframe>`'s content is
never rendered.

A `<br>` ends a block, as a line break ends a sentence in plain text.  Inside a
block, whitespace that contains a line break becomes one space: the browser renders
both alike, and a hard-wrapped sentence then reaches the model whole.  An inline
element that carries a translatable attribute (`<img alt>` inside a paragraph, a
titled link) ends the block there too: the attribute value is a block of its own, and
the template, a flat sequence, cannot hold one block inside another.

A whole page gets per-target slots for `<html lang>` and, only where the target is
written right to left or the source already had one, `dir`.  A fragment has no
`<html>`; the page that embeds it owns its language.

How the template is cut: every unit is bracketed in the tree by marker strings made
of private-use characters that do not occur in the input, the tree is serialized
once, and the serialized text is cut at the markers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
from lxml import etree

from ..document import Document, Slot, Span, TemplateBuilder
from ..errors import UserError

# Phrasing content: stays inside the block that holds it.
_INLINE = frozenset(
    "a abbr acronym b bdi bdo big button cite data del dfn em font i img input ins label mark meter output "
    "picture progress q rp rt ruby s small source span strike strong sub sup time tt u wbr area map".split()
)
# Inline elements whose content is never translated: kept whole, as one protected span.
_OPAQUE_INLINE = frozenset("code kbd samp var svg math".split())
# Elements left exactly as they are (contents and attributes): never a block, never inside one.
_SKIPPED = frozenset(
    "script style template pre textarea iframe object embed select canvas video audio".split()
)
# Skipped elements holding text a reader sees, as Document.untranslated names them, and why they stay.
LEFT_VISIBLE = {
    "<select>": "form controls", "<textarea>": "form controls",
    "<object>": "media fallback", "<canvas>": "media fallback", "<video>": "media fallback", "<audio>": "media fallback",
}
# Inside inline SVG, where the page's own HTML (and its text) can be again; lxml lower-cases the name.
_FOREIGN = "foreignobject"
_KINDS = {
    **{f"h{n}": "heading" for n in range(1, 7)},
    "li": "list_item", "dt": "list_item", "dd": "list_item",
    "td": "table_cell", "th": "table_cell",
    "figcaption": "caption", "caption": "caption",
    "blockquote": "blockquote",
}
# Containers whose kind their descendants' text inherits (`<li><p>…</p></li>` is a list item).
_INHERITED = frozenset({"list_item", "table_cell", "caption", "blockquote"})
_ATTRIBUTES = {"alt": "alt", "title": "tooltip", "placeholder": "placeholder"}  # attribute -> block kind
# Elements on which an attribute is shown to the reader; an attribute not listed here is shown on any.
_SHOWN_ON = {"alt": frozenset({"img", "area", "input"}), "placeholder": frozenset({"input", "textarea"})}

_FULL_PAGE = re.compile(r"\A(?:\s|<!--.*?-->|<\?.*?>)*<(?:!doctype|html|head|body)\b", re.IGNORECASE | re.DOTALL)
_DOCTYPE = re.compile(r"<!doctype\b", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_WRAP = re.compile(r"[ \t\r\f]*\n\s*")  # whitespace holding a line break
# huge_tree lifts libxml2's nesting limit (256), past which it silently drops the rest of the
# page; MAX_DEPTH then refuses what the reader (which walks the tree recursively) cannot take.
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_blank_text=False, huge_tree=True)
MAX_DEPTH = 400


def escape_text(text: str, kind: str) -> str:
    """Plain text for a block: `&`, `<` and `>` as character references (as the parser's own
    serialization writes them), and quotes too in an attribute value (`alt`, `title`), so
    that no character of it can open a tag or close the attribute."""
    return html.escape(text, quote=kind in _ATTRIBUTES.values())


class HTMLReadError(UserError):
    """The input cannot be read as HTML (empty, or no usable markers)."""


@dataclass(frozen=True)
class _Unit:
    kind: str
    attribute: bool  # an attribute value (no tags inside, line breaks kept)


class _Marks:
    """Marker strings built from two private-use characters that the input lacks."""

    def __init__(self, text: str) -> None:
        free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
        try:
            self.open, self.close = next(free), next(free)
        except StopIteration:  # pragma: no cover - a text holding all 6400 private-use characters
            raise HTMLReadError("the document uses every private-use character; cannot mark it") from None
        o, c = re.escape(self.open), re.escape(self.close)
        self.any = re.compile(f"{o}(/?)(p|s?[0-9]+){c}")
        self.protected_region = re.compile(f"{o}p{c}(.*?){o}/p{c}", re.DOTALL)
        # Inside a unit: protected regions, comments, tags, character references, text.
        self.token = re.compile(
            f"(?P<region>{o}p{c}.*?{o}/p{c})|(?P<comment><!--.*?-->)|(?P<tag><[^>]*>)|(?P<entity>{_ENTITY.pattern})",
            re.DOTALL,
        )

    def start(self, n: int) -> str:
        return f"{self.open}{n}{self.close}"

    def end(self, n: int) -> str:
        return f"{self.open}/{n}{self.close}"

    def slot(self, n: int) -> str:
        return f"{self.open}s{n}{self.close}"

    @property
    def protect(self) -> tuple[str, str]:
        return f"{self.open}p{self.close}", f"{self.open}/p{self.close}"


def read(text: str, name: str) -> Document:
    """Split an HTML page or fragment into blocks and the markup around them."""
    if not text.strip():
        raise HTMLReadError(f"{name}: the HTML document is empty")
    marks = _Marks(text)
    full = bool(_FULL_PAGE.match(text))
    source = text if full else f"<html><body>{text}</body></html>"
    try:  # as UTF-8 bytes: lxml refuses a str that starts with an XML encoding declaration
        root = lxml.html.document_fromstring(source.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise HTMLReadError(f"{name}: cannot parse as HTML: {exc}") from exc
    _refuse_truncated(root, name)
    marker = _Marker(marks)
    marker.visit(root, "paragraph")
    slots: list[Slot] = []
    if full:
        slots, added = _language_slots(root, marks)
        serialized = _serialize_page(root, text)
        for attribute, mark in added.items():
            serialized = serialized.replace(attribute, mark, 1)
    else:
        body = root.find("body")
        if body is None:  # pragma: no cover - the wrapper always makes one
            raise HTMLReadError(f"{name}: cannot parse as HTML")
        inner = lxml.html.tostring(body, encoding="unicode", with_tail=False)
        serialized = inner[len("<body>") : -len("</body>")]
    builder = TemplateBuilder()
    _Splitter(marks, marker.units, slots, builder).outer(serialized)
    return builder.build(name, "html", marker.left)


def _refuse_truncated(root: lxml.html.HtmlElement, name: str) -> None:
    """Refuse a page the parser could not read whole, or too deep to walk: publishing it would
    publish a page with content missing."""
    if any("depth" in entry.message.lower() for entry in _PARSER.error_log):
        raise HTMLReadError(f"{name}: the HTML is nested too deeply for the parser to read it whole; "
                            f"multitrans reads pages nested up to {MAX_DEPTH} elements deep")
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise HTMLReadError(f"{name}: the HTML is nested more than {MAX_DEPTH} elements deep; "
                                "flatten it (nothing was translated)")
        stack.extend((child, depth + 1) for child in node)


def _serialize_page(root: lxml.html.HtmlElement, text: str) -> str:
    """The page as written by lxml; a doctype only where the source had one (lxml would add HTML 4's)."""
    parts = []
    doctype = root.getroottree().docinfo.doctype
    if doctype and _DOCTYPE.search(text):
        parts.append(doctype)
    parts += [_node(n) for n in reversed(list(root.itersiblings(preceding=True)))]
    parts.append(_node(root))
    parts += [_node(n) for n in root.itersiblings()]
    return "\n".join(parts) + ("\n" if text.endswith("\n") else "")


def _node(node: etree._Element) -> str:
    return lxml.html.tostring(node, encoding="unicode", with_tail=False)


def _language_slots(root: lxml.html.HtmlElement, marks: _Marks) -> tuple[list[Slot], dict[str, str]]:
    """Mark `<html lang>` and `dir` for the target.

    An attribute the source lacked is added whole, ` lang="…"` (and ` dir="rtl"` only for
    right-to-left targets); the second value maps its serialized form to the bare marker.
    """
    slots: list[Slot] = []
    added: dict[str, str] = {}
    for attribute, value in (("lang", "{lang}"), ("dir", "{dir}")):
        mark = marks.slot(len(slots))
        present = root.get(attribute)
        if present is not None:
            slots.append(Slot(present, value))
        else:
            slots.append(Slot("", f' {attribute}="{value}"', "" if attribute == "dir" else None))
            added[f' {attribute}="{mark}"'] = mark
        root.set(attribute, mark)
    return slots, added


def _is_comment(node: etree._Element) -> bool:
    return not isinstance(node.tag, str)  # comments, processing instructions, entities


def _untranslatable(node: etree._Element) -> bool:
    return node.get("translate", "").strip().lower() == "no" or "notranslate" in (node.get("class") or "").split()


def _foreign_objects(svg: etree._Element) -> list[etree._Element]:
    """The outermost `<foreignObject>`s of an inline SVG: HTML a browser renders as page text."""
    found = []
    for element in svg.iter(_FOREIGN):
        parent = element.getparent()
        while parent is not None and parent is not svg and parent.tag != _FOREIGN:
            parent = parent.getparent()
        if parent is svg:
            found.append(element)
    return found


def _visible_passages(node: etree._Element) -> int:
    """Passages a reader sees in a skipped element: each labelled option and option group of a
    `<select>` (its list shows them one by one), else the element's text as one."""
    if node.tag == "select":
        return sum(1 for d in node.iter("option", "optgroup")
                   if (d.get("label") or (d.text_content() if d.tag == "option" else "")).strip())
    return 1 if node.text_content().strip() else 0


class _Marker:
    """Walks the tree and brackets every unit (a run of inline content, an attribute value) with markers."""

    def __init__(self, marks: _Marks) -> None:
        self.marks = marks
        self.units: list[_Unit] = []
        self.left: dict[str, int] = {}  # LEFT_VISIBLE name -> passages, in document order

    def visit(self, node: etree._Element, context: str) -> None:
        """A block-level node: skipped, or a container whose inline runs become blocks."""
        if _is_comment(node) or _untranslatable(node):
            return
        if node.tag in _SKIPPED:
            if node.tag == "textarea":  # its text is the reader's to edit; its hint and tooltip are ours
                self._attributes(node)
            name = f"<{node.tag}>"
            if name in LEFT_VISIBLE and (passages := _visible_passages(node)):
                self.left[name] = self.left.get(name, 0) + passages
            return
        if node.tag == "svg":  # only reached for an SVG holding HTML text: that text is translated
            for foreign in _foreign_objects(node):
                self.visit(foreign, context)
            return
        if node.tag == "head":
            for child in node:
                if child.tag == "title" and child.text and not _untranslatable(child):
                    self._bracket(child, "text", [], "title")
            return
        kind = _KINDS.get(node.tag) or (context if context in _INHERITED else "paragraph")
        self._attributes(node)
        slot: tuple[etree._Element, str] = (node, "text")
        run: list[etree._Element] = []
        for child in node:
            if self._breaks(child):
                self._bracket(*slot, run, kind)
                if child.tag == "br":
                    self._attributes(child)
                else:
                    self.visit(child, kind)
                slot, run = (child, "tail"), []
            else:
                run.append(child)
        self._bracket(*slot, run, kind)

    def _breaks(self, child: etree._Element) -> bool:
        """Does `child` end the current run? Block-level elements and `<br>` do; so does an
        inline element wrapping block-level ones (`<a href><h2>…</h2></a>`)."""
        if _is_comment(child):
            return False
        if child.tag == "br":
            return True
        if child.tag == "svg" and not _untranslatable(child):
            return any((f.text or "").strip() or len(f) for f in _foreign_objects(child))
        if child.tag in _OPAQUE_INLINE or (_untranslatable(child) and child.tag in _INLINE):
            return False
        if child.tag not in _INLINE:
            return True
        return any(not _is_comment(d) and d.tag not in _INLINE and d.tag not in _OPAQUE_INLINE for d in child.iterdescendants())

    def _bracket(self, owner: etree._Element, where: str, run: list[etree._Element], kind: str) -> None:
        """Put a unit's markers around `owner.text`/`owner.tail` and the inline elements after it."""
        if not (getattr(owner, where) or "").strip() and not run:
            return
        for child in run:
            self._inline(child)
        n = self._new(kind, attribute=False)
        setattr(owner, where, self.marks.start(n) + (getattr(owner, where) or ""))
        last, last_where = (run[-1], "tail") if run else (owner, where)
        setattr(last, last_where, (getattr(last, last_where) or "") + self.marks.end(n))

    def _inline(self, node: etree._Element) -> None:
        """Inside a run: protect what must pass whole, mark translatable attributes, descend."""
        if _is_comment(node) or node.tag in _OPAQUE_INLINE or _untranslatable(node):
            start, end = self.marks.protect
            previous = node.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + start
            else:
                parent = node.getparent()
                parent.text = (parent.text or "") + start
            node.tail = end + (node.tail or "")
            return
        self._attributes(node)
        for child in node:
            self._inline(child)

    def _attributes(self, node: etree._Element) -> None:
        for attribute, kind in _ATTRIBUTES.items():
            value = node.get(attribute)
            if value is None or not value.strip() or node.tag not in _SHOWN_ON.get(attribute, (node.tag,)):
                continue
            n = self._new(kind, attribute=True)
            node.set(attribute, self.marks.start(n) + value + self.marks.end(n))

    def _new(self, kind: str, attribute: bool) -> int:
        self.units.append(_Unit(kind, attribute))
        return len(self.units) - 1


class _Splitter:
    """Cuts the serialized, marked page into literals, blocks and slots."""

    def __init__(self, marks: _Marks, units: list[_Unit], slots: list[Slot], builder: TemplateBuilder) -> None:
        self.marks, self.units, self.slots, self.builder = marks, units, slots, builder

    def outer(self, text: str) -> None:
        """Text outside any unit: literals, with units and slots where their markers are."""
        pos = 0
        while (found := self.marks.any.search(text, pos)) is not None:
            self.builder.literal(text[pos : found.start()])
            closing, label = found.groups()
            if label.startswith("s"):
                self.builder.slot(self.slots[int(label[1:])])
                pos = found.end()
                continue
            if closing or label == "p":
                raise HTMLReadError(f"marker {label!r} out of place in the serialized page")
            n = int(label)
            end = text.find(self.marks.end(n), found.end())
            if end < 0:
                raise HTMLReadError(f"unit {n} has no end marker in the serialized page")
            self.unit(text[found.end() : end], self.units[n])
            pos = end + len(self.marks.end(n))
        self.builder.literal(text[pos:])

    def unit(self, text: str, unit: _Unit) -> None:
        """One unit's serialized content: blocks of text and inline markup, cut at tags that hold units."""
        piece: list[tuple[str, bool]] = []  # (text, protected)
        for value, protected, holds_units in self._tokens(text):
            if holds_units:
                self._emit(piece, unit)
                piece = []
                self.outer(value)
            else:
                piece.append((value, protected))
        self._emit(piece, unit)

    def _tokens(self, text: str) -> Iterator[tuple[str, bool, bool]]:
        """(text, protected, holds a unit marker), in order."""
        pos = 0
        for found in self.marks.token.finditer(text):
            if found.start() > pos:
                yield self._text(text[pos : found.start()]), False, False
            value = found.group()
            if found.lastgroup == "region":
                start, end = self.marks.protect
                yield value[len(start) : -len(end)], True, False
            else:
                yield value, True, found.lastgroup == "tag" and self.marks.any.search(value) is not None
            pos = found.end()
        if pos < len(text):
            yield self._text(text[pos:]), False, False

    def _text(self, text: str) -> str:
        if self.marks.open in text:
            raise HTMLReadError("a marker was left inside block text")
        return text

    def _emit(self, piece: list[tuple[str, bool]], unit: _Unit) -> None:
        """A block for the piece's text, its outer whitespace left in the layout; no block without text.

        Inside a block of element text, whitespace holding a line break is folded to one
        space (rendered alike, and the sentence splitter then sees wrapped sentences whole);
        attribute values keep theirs, since tooltips show line breaks.
        """
        raw = "".join(value for value, _ in piece)
        if not any(not protected and value.strip() for value, protected in piece):
            self.builder.literal(raw)
            return
        lead, trail = len(raw) - len(raw.lstrip()), len(raw.rstrip())
        text: list[str] = []
        spans: list[Span] = []
        cursor = length = 0
        for value, protected in piece:
            value, cursor = value[max(lead - cursor, 0) : max(trail - cursor, 0)], cursor + len(value)
            if not protected and not unit.attribute:
                value = _WRAP.sub(" ", value)
            if protected and value and spans and spans[-1][1] == length:
                spans[-1] = (spans[-1][0], length + len(value))
            elif protected and value:
                spans.append((length, length + len(value)))
            text.append(value)
            length += len(value)
        self.builder.literal(raw[:lead])
        self.builder.block(unit.kind, "".join(text), spans)
        self.builder.literal(raw[trail:])
