"""Markdown articles: the original text cut into layout literals and translatable blocks.

markdown-it-py (CommonMark, GFM tables and strikethrough, front matter) tells us *what*
is where; the text itself is always sliced out of the original input, never re-rendered,
so `read(t, n).source == t` holds by construction: every character lands in exactly one
literal or one block, in order.  Code, HTML blocks, front matter, thematic breaks,
reference definitions and blank lines are simply never made into blocks.  Of these,
only HTML blocks can hold text a reader sees (a renderer passes them through as they
are): the passages the HTML reader would translate in one are counted
(`Document.untranslated`), so that a run can say what stayed in the source language;
code is code, and front matter is metadata, so neither is counted.  Past
MAX_NESTING levels markdown-it stops reading a container; such input is refused, since
its text would otherwise stay untranslated without a word.

Blocks hold the raw inline Markdown of a heading, paragraph or table cell; container
prefixes (`#`, `>`, list markers, `|`) stay in the literals.  A paragraph wrapped over
several lines stays one block as long as its continuation lines are prefixed by
whitespace only (top level, list items, lazy lines): the newline and indentation ride
inside the text and are harmless there.  A continuation line that carries a marker
(`> ` in a quote) cannot be expressed by a template of literals around one block, so
there the paragraph becomes one block per line.

Inside a block, `protected` marks the inline markup that must pass through translation
unchanged (code spans, link targets, HTML tags, emphasis markers...).  markdown-it gives
inline tokens no positions, so `_Aligner` walks them in source order against the exact
string the inline parser saw.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import MD_TRIM_CHARS
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline, autolink, backtick, html_inline, image, link
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from ..document import Document, Span, TemplateBuilder
from ..errors import UserError

_LINE_END = re.compile(r"\r\n?|\n")  # exactly the line endings markdown-it normalises to "\n"
_BREAK = re.compile(r"( *|\\)\n[ \t]*")  # a soft or hard line break inside inline content
_MARKERS = frozenset({"em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"})
_SPAN_RULES = {"code_inline": backtick, "html_inline": html_inline}
_CONTAINER_KIND = {"blockquote_open": "blockquote", "list_item_open": "list_item"}

# What in plain text would start raw HTML or an autolink (`<img`, `</`, `<!--`, `<?`) or a
# character reference (`&lt;`), the two ways text can turn into markup a renderer acts on.
_MARKUP_START = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")

# Nesting levels markdown-it parses (a list level takes two, a quote one): far past any article,
# and few enough that the parser, which recurses once per level, stays inside Python's stack.
MAX_NESTING = 100
_SKIPPED = "multitrans_skipped_line"  # env key: the first line markdown-it skipped for nesting
RAW_HTML = "raw HTML"
# What Document.untranslated names, and why it stays as it is.
LEFT_VISIBLE = {RAW_HTML: "raw HTML"}

BlockRule = Callable[[StateBlock, int, int, bool], bool]
Region = tuple[int, int, str, list[Span]]  # start, end, kind, protected spans (block-relative)


class MarkdownReadError(UserError):
    """The input cannot be read whole as Markdown."""


def escape_text(text: str, kind: str) -> str:
    """Plain text for a block: a `<` that would open raw HTML and a `&` that would start a
    character reference are written as references; "a < b" and "R&D" stay as they are."""
    return _MARKUP_START.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", text)


def _recording_columns(rule: BlockRule) -> BlockRule:
    """Wrap a block rule so its opening token remembers where each line's content starts.

    Tokens only carry line ranges, and once `>` or list indentation is consumed the
    parser's line marks are restored; so we note, while the rule runs, the column at
    which the parser reads each of its lines.
    """

    def recorded(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        first_token = len(state.tokens)
        found = rule(state, start, end, silent)
        if found and not silent:
            opening = state.tokens[first_token]
            paragraph = opening.type == "paragraph_open" or opening.markup in ("=", "-")
            state.tokens[first_token].meta["columns"] = [
                _content_start(state, n, paragraph) - (state.src.rfind("\n", 0, state.bMarks[n]) + 1)
                for n in range(start, state.line)
            ]
        return found

    return recorded


def _content_start(state: StateBlock, line: int, paragraph: bool) -> int:
    """Where the parser reads `line` from: tables and ATX headings at `bMarks + tShift`;
    paragraphs where `StateBlock.getLines` stops, which for tabs after `>` can be
    before a list marker that the parser then treats as text."""
    first = state.bMarks[line]
    if not paragraph:
        return first + state.tShift[line]
    indent = 0
    while first < state.eMarks[line] and indent < state.blkIndent:
        if state.src[first] == "\t":
            indent += 4 - (indent + state.bsCount[line]) % 4
        elif state.src[first] == " " or first - state.bMarks[line] < state.tShift[line]:
            indent += 1
        else:
            break
        first += 1
    return first


def _parser() -> MarkdownIt:
    """CommonMark + GFM tables/strikethrough + front matter, instrumented for positions.

    `text_join` is off so escapes and entities stay `text_special` tokens holding their
    raw markup: then every text token is a verbatim slice of the inline source.
    """
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"]).use(front_matter_plugin)
    md.disable("text_join")
    md.block.tokenize = _noting_skipped(md.block.tokenize)  # type: ignore[method-assign]
    ruler = md.block.ruler
    for name in ("table", "heading", "lheading", "paragraph"):
        rule = ruler.__rules__[ruler.__find__(name)]  # no public getter; `at` would drop `alt`
        ruler.at(name, _recording_columns(rule.fn), {"alt": list(rule.alt)})
    return md


def _noting_skipped(tokenize: Callable[[StateBlock, int, int], None]) -> Callable[[StateBlock, int, int], None]:
    """Wrap the block tokenizer so that skipped content is noted, never lost unseen.

    Past `maxNesting` levels markdown-it drops the rest of the container ("skip tail to
    the end"): no tokens, so the text would stay in the layout, untranslated, without a
    word.  The wrapper sees the same condition the tokenizer tests and records the line."""

    def noted(state: StateBlock, start: int, end: int) -> None:
        line = state.skipEmptyLines(start)
        if state.level >= MAX_NESTING and line < end and state.sCount[line] >= state.blkIndent:
            state.env.setdefault(_SKIPPED, line)
        tokenize(state, start, end)

    return noted


_MD = _parser()


class _Aligner:
    """Finds the source of a unit's inline tokens, in order, to collect protected spans.

    Text tokens are verbatim slices; for constructs of variable length (code spans,
    links, images, autolinks, inline HTML) markdown-it's own inline rule is re-run at
    that spot in silent mode to learn where the construct ends.  Any disagreement
    means reader and parser drifted apart: we fail loudly instead of guessing.
    """

    def __init__(self, src: str, env: dict[str, Any]) -> None:
        self.src = src
        self.spans: list[Span] = []
        self._state = StateInline(src, _MD, env, [])

    def walk(self, tokens: Sequence[Token], i: int) -> int:
        """Consume `tokens` from offset `i`; return the offset after the last one."""
        links: list[Span] = []  # (start, end) of the links opened and not yet closed
        in_autolink = False
        for token in tokens:
            kind = token.type
            if in_autolink:  # its text child is a normalised copy of the URL, already protected
                in_autolink = kind != "link_close"
            elif kind == "text":
                i = self._expect(token.content, i)
            elif kind == "text_special" and token.info == "escape":  # `\*` must not lose its backslash
                i = self._protect(i, self._expect(token.markup, i))
            elif kind == "text_special":  # an entity: its markup is the raw source
                i = self._expect(token.markup, i)
            elif kind in ("softbreak", "hardbreak"):
                i = self._line_break(i, kind == "hardbreak")
            elif kind in _MARKERS:
                i = self._protect(i, self._expect(token.markup, i))
            elif kind in _SPAN_RULES:
                i = self._protect(i, self._rule_end(_SPAN_RULES[kind], i))
            elif kind == "link_open" and token.markup == "autolink":
                i, in_autolink = self._protect(i, self._rule_end(autolink, i)), True
            elif kind == "link_open":  # the link text between `[` and `]` is translatable
                links.append((i, self._rule_end(link, i)))
                i = self._expect("[", i)
            elif kind == "link_close":
                i = self._close_link(i, *links.pop())
            elif kind == "image":  # `![`, then the alt text (translatable), then `](...)`
                start, end = i, self._rule_end(image, i)
                i = self._close_link(self.walk(token.children or [], self._expect("![", i)), start, end)
            else:
                raise ValueError(f"unexpected inline token {kind!r}")
        return i

    def _close_link(self, i: int, start: int, end: int) -> int:
        """Protect a link's or image's opening and its tail from `]` at `i` to `end`.

        In a shortcut `[label]` or collapsed `[label][]` reference the text *is* the
        label: translating it would break the link, so the whole link is protected.
        """
        self._expect("]", i)
        opener = 2 if self.src.startswith("!", start) else 1  # `![` or `[`
        self._protect(start, end if self.src[i:end] in ("]", "][]") else start + opener)
        return self._protect(i, end)

    def _expect(self, raw: str, i: int) -> int:
        if not self.src.startswith(raw, i):
            raise ValueError(f"expected {raw!r} at {self.src[i:i + 20]!r}")
        return i + len(raw)

    def _protect(self, start: int, end: int) -> int:
        self.spans.append((start, end))
        return end

    def _rule_end(self, rule: Callable[[StateInline, bool], bool], i: int) -> int:
        self._state.pos, self._state.posMax = i, len(self.src)
        if not rule(self._state, True):
            raise ValueError(f"{rule.__name__} does not match at {self.src[i:i + 20]!r}")
        return self._state.pos

    def _line_break(self, i: int, hard: bool) -> int:
        """Trailing spaces or `\\`, the newline, the next line's indent; hard-break markup is protected."""
        found = _BREAK.match(self.src, i)
        if not found:
            raise ValueError(f"expected a line break at {self.src[i:i + 20]!r}")
        if hard:
            self._protect(i, found.end(1))
        return found.end()


def read(text: str, name: str) -> Document:
    """Split a Markdown article into blocks and the layout around them."""
    env: dict[str, Any] = {}
    tokens = _MD.parse(text, env)
    if _SKIPPED in env:
        raise MarkdownReadError(
            f"{name}:{env[_SKIPPED] + 1}: the Markdown is nested too deeply for the parser (it reads "
            f"{MAX_NESTING - 1} quotes or {MAX_NESTING // 2 - 1} lists inside each other); its text "
            "would stay untranslated, so nothing was translated: flatten it"
        )
    lines = _line_bounds(text)
    regions: list[Region] = []
    containers: list[str] = []
    table: Token | None = None
    row: Token | None = None
    cells: list[Token] = []
    raw_html = 0
    for index, token in enumerate(tokens):
        opening = tokens[index - 1] if index else token
        try:
            if token.type in _CONTAINER_KIND:
                containers.append(_CONTAINER_KIND[token.type])
            elif token.type in ("blockquote_close", "list_item_close"):
                containers.pop()
            elif token.type == "table_open":
                table = token
            elif token.type == "html_block":
                raw_html += _visible_passages(token.content, name)
            elif token.type == "inline" and opening.type == "heading_open" and opening.markup.startswith("#"):
                regions += _atx_heading(text, lines, opening, token, env)
            elif token.type == "inline" and opening.type in ("heading_open", "paragraph_open"):
                kind = "heading" if opening.type == "heading_open" else (containers or ["paragraph"])[-1]
                regions += _paragraph(text, lines, opening, token, kind, env)
            elif token.type == "tr_open":
                row, cells = token, []
            elif token.type == "inline" and opening.type in ("th_open", "td_open"):
                cells.append(token)
            elif token.type == "tr_close" and table is not None and row is not None:
                regions += _table_row(text, lines, table, row, cells, env)
        except ValueError as error:
            line = (token.map or opening.map or [0])[0] + 1
            raise ValueError(f"{name}:{line}: Markdown reader lost track of inline markup: {error}") from error
    builder = TemplateBuilder()
    cursor = 0
    for start, end, kind, spans in regions:
        builder.literal(text[cursor:start])
        builder.block(kind, text[start:end], spans)
        cursor = end
    builder.literal(text[cursor:])
    return builder.build(name, "markdown", {RAW_HTML: raw_html})


def _visible_passages(html: str, name: str) -> int:
    """Passages a reader sees in an HTML block: what the HTML reader would translate there,
    and what it would count as left; one when it cannot read the block."""
    from .html import read as read_html

    try:
        page = read_html(html, name)
    except UserError:
        return 1
    return len(page.blocks) + sum(n for _, n in page.untranslated)


def _line_bounds(text: str) -> list[Span]:
    """(start, end) of every line, end excluding the line ending, numbered as markdown-it numbers them."""
    bounds, start = [], 0
    for ending in _LINE_END.finditer(text):
        bounds.append((start, ending.start()))
        start = ending.end()
    bounds.append((start, len(text)))
    return bounds


def _unit(
    text: str, src: str, where: Sequence[int], inline: Token, env: dict[str, Any], kind: str,
    groups: Sequence[Span], extra: Sequence[Span] = (),
) -> list[Region]:
    """Blocks for one inline unit: `src` is what the parser saw, `where[k]` the source offset of `src[k]`.

    `groups` are the source ranges that become blocks (one, or one per quoted line);
    they are trimmed of surrounding whitespace, which stays in the layout.
    """
    aligner = _Aligner(src, env)
    if aligner.walk(inline.children or [], 0) != len(src):
        raise ValueError(f"inline tokens end before {src!r}")
    merged: list[Span] = []  # in source offsets, sorted, touching spans joined
    for a, b in sorted([(where[a], where[b - 1] + 1) for a, b in aligner.spans if b > a] + list(extra)):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    ends = [b for _, b in merged]
    regions: list[Region] = []
    for start, end in groups:
        chunk = text[start:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start += len(chunk) - len(chunk.lstrip())
        end = start + len(stripped)
        spans, k = [], bisect.bisect_right(ends, start)  # the first span ending inside the block
        while k < len(merged) and merged[k][0] < end:
            spans.append((max(merged[k][0], start) - start, min(merged[k][1], end) - start))
            k += 1
        regions.append((start, end, kind, spans))
    return regions


def _trimmed(text: str, where: list[int]) -> tuple[str, list[int]]:
    """`text` as markdown-it trims it, with the matching slice of `where`."""
    lead = len(text) - len(text.lstrip(MD_TRIM_CHARS))
    core = text.strip(MD_TRIM_CHARS)
    return core, where[lead : lead + len(core)]


def _paragraph(
    text: str, lines: list[Span], opening: Token, inline: Token, kind: str, env: dict[str, Any]
) -> list[Region]:
    """A paragraph or setext heading: its lines' content, joined as the parser joined them."""
    first, stop = opening.map or (0, 0)
    if opening.type == "heading_open":
        stop -= 1  # the `===` / `---` underline is layout
    pieces = [(lines[n][0] + column, lines[n][1]) for n, column in zip(range(first, stop), opening.meta["columns"])]
    parts: list[str] = []
    where: list[int] = []
    for k, (start, end) in enumerate(pieces):
        if k:
            parts.append("\n")
            where.append(pieces[k - 1][1])
        parts.append(text[start:end])
        where.extend(range(start, end))
    src, where = _trimmed("".join(parts).replace("\0", "\ufffd"), where)
    if _unindented(src) != _unindented(inline.content):
        raise ValueError(f"paragraph content {inline.content!r} is not {src!r}")
    if not src:
        return []
    groups: list[Span] = []
    for k, (start, end) in enumerate(pieces):
        marked = text[lines[first + k][0] : start].strip()  # a `>` before this line's content
        if k and not marked:
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    bounded = [(max(a, where[0]), min(b, where[-1] + 1)) for a, b in groups]
    return _unit(text, src, where, inline, env, kind, bounded)


def _unindented(content: str) -> str:
    """Content without continuation-line indentation, which the inline parser skips anyway."""
    return re.sub(r"\n[ \t]+", "\n", content)


def _atx_heading(text: str, lines: list[Span], opening: Token, inline: Token, env: dict[str, Any]) -> list[Region]:
    """An ATX heading: its content is a verbatim slice of the line, after the `#` run."""
    if not inline.content:
        return []
    line_start, line_end = lines[(opening.map or (0, 0))[0]]
    line = text[line_start:line_end].replace("\0", "\ufffd")
    at = line.find(inline.content, opening.meta["columns"][0] + len(opening.markup))
    if at < 0:
        raise ValueError(f"heading {inline.content!r} not found in {line!r}")
    start = line_start + at
    where = list(range(start, start + len(inline.content)))
    return _unit(text, inline.content, where, inline, env, "heading", [(start, start + len(inline.content))])


def _table_row(
    text: str, lines: list[Span], table: Token, row: Token, inlines: list[Token], env: dict[str, Any]
) -> list[Region]:
    """The cells of one table row, split on unescaped `|` exactly as markdown-it's `escapedSplit` does.

    As in GFM, a pipe inside a code span still splits unless escaped; `\\|` is protected
    so that a translation cannot turn it into a cell separator.  Cells past the header's
    column count are ignored by the parser and stay layout.
    """
    number = (row.map or (0, 0))[0]
    start = lines[number][0] + table.meta["columns"][number - (table.map or (0, 0))[0]]
    line = text[start : lines[number][1]]
    start += len(line) - len(line.lstrip(MD_TRIM_CHARS))
    end = start + len(line.strip(MD_TRIM_CHARS))
    cells: list[list[int]] = [[]]
    escapes: list[Span] = []
    escaped = False
    for pos in range(start, end):
        if text[pos] == "|" and not escaped:
            cells.append([])
        elif text[pos] == "|":  # the parser drops the backslash of `\|`
            cells[-1][-1] = pos
            escapes.append((pos - 1, pos + 1))
        else:
            cells[-1].append(pos)
        escaped = text[pos] == "\\"
    if cells and not cells[0]:
        cells.pop(0)
    if cells and not cells[-1]:
        cells.pop()
    regions: list[Region] = []
    for positions, inline in zip(cells, inlines):
        src, where = _trimmed("".join(text[p] for p in positions).replace("\0", "\ufffd"), positions)
        if src != inline.content:
            raise ValueError(f"table cell {inline.content!r} is not {src!r}")
        if src:
            regions += _unit(text, src, where, inline, env, "table_cell", [(where[0], where[-1] + 1)], escapes)
    return regions
