"""The Markdown reader: exact round trip, the blocks it cuts, and markup kept out of translation."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from multitrans.document import Block, Document
from multitrans.formats.markdown import read

ARTICLE = (
    "---\n"
    "title: Fjellet kaller\n"
    "no: false\n"
    "tags: [tur, vær]\n"
    "---\n"
    "\n"
    "# Into the *mountains* ##\n"
    "\n"
    "The trail starts at the [old station](https://example.org/station?a=1&b=2 \"Station\")\n"
    "and climbs for hours.  \n"
    "Use `git clone` before you leave.\n"
    "\n"
    "![A foggy ridge at dawn](images/ridge.jpg)\n"
    "\n"
    "Setext title\n"
    "------------\n"
    "\n"
    "```python\n"
    "print(\"do not translate me\")\n"
    "```\n"
    "\n"
    "<div class=\"note\">\n"
    "Raw HTML stays.\n"
    "</div>\n"
    "\n"
    "- Pack water\n"
    "  and food.\n"
    "- Check the **weather**:\n"
    "  1. wind <https://yr.no/wind>\n"
    "  2. rain \n"
    "\n"
    "> Walk slowly.\n"
    "> Arrive *safely*.\n"
    "\n"
    "| Day | Distance | Note |\n"
    "|-----|---------:|------|\n"
    "| Mon | 12 km | easy `a\\|b` |\n"
    "| Tue | 20 km | see [map][m] |\n"
    "\n"
    "    indented code stays\n"
    "\n"
    "***\n"
    "\n"
    "[m]: https://example.org/map\n"
    "\n"
    "Thanks for reading!   "
)

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(front_matter_plugin)


def _protected(block: Block) -> list[str]:
    return [block.text[a:b] for a, b in block.protected]


def _shout(doc: Document) -> str:
    """Render as a well-behaved translator would: everything but protected spans in upper case."""
    texts = []
    for block in doc.blocks:
        parts, cursor = [], 0
        for start, end in block.protected:
            parts += [block.text[cursor:start].upper(), block.text[start:end]]
            cursor = end
        texts.append("".join(parts) + block.text[cursor:].upper())
    return doc.render(texts)


def _block_types(text: str) -> list[str]:
    return [token.type for token in _MD.parse(text)]


def _markup(text: str) -> list[tuple[object, ...]]:
    """Everything markdown-it sees in `text` except translatable words: token types, markers,
    code, HTML, front matter and link targets."""
    verbatim = {"code_inline", "code_block", "fence", "html_block", "html_inline", "front_matter"}
    found: list[tuple[object, ...]] = []
    for token in _MD.parse(text):
        for t in [token, *(token.children or [])]:
            if t.type not in ("inline", "text", "text_special"):
                attrs = {k: v for k, v in (t.attrs or {}).items() if k != "alt"}
                found.append((t.type, t.markup, t.content if t.type in verbatim else "", sorted(attrs.items())))
    return found


def test_article_round_trips_exactly() -> None:
    doc = read(ARTICLE, "article.md")
    assert doc.source == ARTICLE
    assert doc.format == "markdown" and doc.name == "article.md"


def test_article_blocks() -> None:
    blocks = read(ARTICLE, "article.md").blocks
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Into the *mountains*"),
        (
            "paragraph",
            "The trail starts at the [old station](https://example.org/station?a=1&b=2 \"Station\")\n"
            "and climbs for hours.  \nUse `git clone` before you leave.",
        ),
        ("paragraph", "![A foggy ridge at dawn](images/ridge.jpg)"),
        ("heading", "Setext title"),
        ("list_item", "Pack water\n  and food."),
        ("list_item", "Check the **weather**:"),
        ("list_item", "wind <https://yr.no/wind>"),
        ("list_item", "rain"),
        ("blockquote", "Walk slowly."),
        ("blockquote", "Arrive *safely*."),
        ("table_cell", "Day"), ("table_cell", "Distance"), ("table_cell", "Note"),
        ("table_cell", "Mon"), ("table_cell", "12 km"), ("table_cell", "easy `a\\|b`"),
        ("table_cell", "Tue"), ("table_cell", "20 km"), ("table_cell", "see [map][m]"),
        ("paragraph", "Thanks for reading!"),
    ]
    assert [b.id for b in blocks] == list(range(len(blocks)))
    heading, para, image, *_ = blocks
    assert _protected(heading) == ["*", "*"]
    assert _protected(para) == ["[", "](https://example.org/station?a=1&b=2 \"Station\")", "  ", "`git clone`"]
    assert _protected(image) == ["![", "](images/ridge.jpg)"]
    assert "A foggy ridge at dawn" in image.text  # alt text is translatable
    assert _protected(blocks[6]) == ["<https://yr.no/wind>"]
    assert _protected(blocks[15]) == ["`a\\|b`"]
    assert _protected(blocks[18]) == ["[", "][m]"]


def test_article_layout_is_never_a_block() -> None:
    joined = "\n".join(b.text for b in read(ARTICLE, "article.md").blocks)
    for layout in ("title:", "no: false", "do not translate", "Raw HTML", "indented code", "***", "example.org/map", "|---"):
        assert layout not in joined


def test_protected_spans_are_sorted_disjoint_and_inside() -> None:
    for block in read(ARTICLE, "article.md").blocks:
        _check_spans(block)


def test_translation_keeps_markup_and_structure() -> None:
    doc = read(ARTICLE, "article.md")
    out = _shout(doc)
    assert "# INTO THE *MOUNTAINS* ##\n" in out
    assert "[OLD STATION](https://example.org/station?a=1&b=2 \"Station\")\nAND CLIMBS FOR HOURS.  \n" in out
    assert "![A FOGGY RIDGE AT DAWN](images/ridge.jpg)" in out
    for kept in (
        ARTICLE[: ARTICLE.index("\n---\n") + 5],  # front matter, keys and values
        "```python\nprint(\"do not translate me\")\n```\n",
        "<div class=\"note\">\nRaw HTML stays.\n</div>\n",
        "<https://yr.no/wind>", "`git clone`", "`a\\|b`", "[m]: https://example.org/map\n",
        "    indented code stays\n", "> WALK SLOWLY.\n> ARRIVE *SAFELY*.\n",
    ):
        assert kept in out
    assert out.endswith("THANKS FOR READING!   ")
    assert _block_types(out) == _block_types(ARTICLE)
    assert _markup(out) == _markup(ARTICLE)


def test_windows_and_old_mac_line_endings_round_trip() -> None:
    text = "# Title\r\n\r\nOne line\r\ntwo lines\rthree.\r\n\r\n> quoted\r\n> more\r\n"
    doc = read(text, "crlf.md")
    assert doc.source == text
    assert [b.text for b in doc.blocks] == ["Title", "One line\r\ntwo lines\rthree.", "quoted", "more"]


def test_quote_lines_are_cut_at_their_markers_lazy_lines_are_not() -> None:
    doc = read("> a `code\n> span` here\nlazy tail\n", "q.md")
    assert [(b.text, _protected(b)) for b in doc.blocks] == [("a `code", ["`code"]), ("span` here\nlazy tail", ["span`"])]


def test_breaks_escapes_and_references() -> None:
    text = "a\\\nb  \nc \\* [x] [y][] <b>d</b> &amp; ~~e~~\n\n[x]: /x\n[y]: /y\n"
    (block,) = read(text, "p.md").blocks
    assert _protected(block) == ["\\", "  ", "\\*", "[x]", "[y][]", "<b>", "</b>", "~~", "~~"]


def test_empty_headings_and_cells_and_cells_past_the_header_are_layout() -> None:
    text = "#\n\n| a |  |\n|---|---|\n|   | b | ignored by the parser |\n"
    doc = read(text, "e.md")
    assert doc.source == text
    assert [(b.kind, b.text) for b in doc.blocks] == [("table_cell", "a"), ("table_cell", "b")]


def test_kind_follows_the_innermost_container() -> None:
    doc = read("> - listed\n>   in a quote\n>\n> quoted\n\n- > quoted in a list\n", "k.md")
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("list_item", "listed"), ("list_item", "in a quote"), ("blockquote", "quoted"), ("blockquote", "quoted in a list"),
    ]


def _check_spans(block: Block) -> None:
    previous = 0
    for start, end in block.protected:
        assert previous <= start < end <= len(block.text)
        previous = end
    assert block.text and block.text == block.text.strip()


# --- generated documents -------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "hello", "Straße", "naïve", "e\u0301te\u0301", "😀", "👩‍👩‍👧", "مرحبا", "שלום", "漢字", "かな", "한국어",
        "x\u200by", "\u00a0", "*em*", "**strong**", "_u_", "~~s~~", "`code`", "``a ` b``", "[link](https://a.b/c?d=e)",
        "![alt](p.png \"t\")", "<https://auto.link>", "<span>", "</span>", "&amp;", "\\*", "https://bare.example/x",
        "[ref]", "*", "_", "|", "\\|", "<", ">", "#", "1.", "-", "!", "[", "]", "(", ")", "\t", "\\",
    ]
)
_LINE = st.lists(_WORDS, min_size=1, max_size=8).map(" ".join)
_EOL = st.sampled_from(["\n", "\r\n", "\n", "  \n", "\\\n"])


@st.composite
def _markdown(draw: st.DrawFn) -> str:
    def lines(prefix: str = "") -> str:
        return "".join(prefix + draw(_LINE) + draw(_EOL) for _ in range(draw(st.integers(1, 3))))

    kinds = {
        "heading": lambda: "#" * draw(st.integers(1, 6)) + " " + draw(_LINE) + draw(st.sampled_from(["", " ##"])) + "\n",
        "setext": lambda: lines() + draw(st.sampled_from(["===\n", "---\n"])),
        "paragraph": lines,
        "list": lambda: "".join(draw(st.sampled_from(["- ", "* ", "1. ", "  - "])) + lines("  ") for _ in range(2)),
        "quote": lambda: lines("> ") + draw(st.sampled_from(["", "lazy line\n", "> > nested\n"])),
        "code": lambda: "```\n" + lines() + "```\n",
        "indented": lambda: lines("    "),
        "table": lambda: "| " + draw(_LINE) + " | b |\n|---|:--:|\n| " + draw(_LINE) + " | " + draw(_LINE) + " |\n",
        "html": lambda: "<div>\n" + lines() + "</div>\n",
        "rule": lambda: "***\n",
        "reference": lambda: "[ref]: https://ref.example/x \"T\"\n",
    }
    parts = [kinds[k]() for k in draw(st.lists(st.sampled_from(sorted(kinds)), max_size=8))]
    body = "".join(part + draw(st.sampled_from(["\n", "", "\r\n", " \n"])) for part in parts)
    front = draw(st.sampled_from(["", "---\ntitle: x\nno: 1\n---\n"]))
    return front + draw(st.sampled_from([body, body.rstrip("\n")]))


@settings(max_examples=100, deadline=None)
@given(_markdown())
def test_generated_documents_round_trip(text: str) -> None:
    doc = read(text, "gen.md")
    assert doc.source == text
    for block in doc.blocks:
        _check_spans(block)
        covered = {i for start, end in block.protected for i in range(start, end)}
        for target in re.finditer(re.escape("](https://a.b/c?d=e)"), block.text):
            assert covered.issuperset(range(*target.span()))


@settings(max_examples=100, deadline=None)
@given(_markdown())
def test_generated_documents_keep_structure_when_translated(text: str) -> None:
    doc = read(text, "gen.md")
    out = _shout(doc)
    assert _markup(out) == _markup(text)


def test_raw_html_a_reader_sees_is_counted_code_and_front_matter_are_not() -> None:
    """Issue 13: what is not translated is counted.  An HTML block is passed through by a renderer,
    so its text is counted as the HTML reader would find it; comments, scripts, code blocks and
    front matter hold no reader text."""
    from multitrans.formats import untranslated_note

    text = ("---\ntitle: Tittel\n---\n\nEt avsnitt.\n\n<div>\nTekst i HTML.\n</div>\n\n<!-- en kommentar -->\n\n"
            "> <details>\n> <summary>Mer</summary>\n\n<script>var a = 1;</script>\n\n```\nkode her\n```\n\n"
            "<textarea>\nSkriv her.\n</textarea>\n")
    doc = read(text, "a.md")
    assert [b.text for b in doc.blocks] == ["Et avsnitt."]
    assert doc.untranslated == (("raw HTML", 3),)  # the <div>'s text, the <summary>, the <textarea>
    assert doc.source == text
    assert untranslated_note(doc) == ("a.md: 3 passages left in the source language by design: 3 in raw HTML "
                                      "(multitrans does not translate raw HTML)")
    assert read(ARTICLE, "article.md").untranslated == (("raw HTML", 1),)  # "Raw HTML stays."
    assert read("# Tittel\n\nEt avsnitt med `kode` og <b>fet</b> tekst.\n", "b.md").untranslated == ()
