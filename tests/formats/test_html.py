"""The HTML reader: blocks, protected inline markup, language slots, and structure kept through translation.

A translation here is the "shouting translator" of the Markdown tests: everything but
protected spans upper-cased.  Structure is then compared with lxml on both sides:
element tags in order, every attribute except the translated `alt`/`title` (and `<html
lang/dir>`), and the text of code, scripts and styles.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from _chromium import distinct_colours, dump_dom, needs_chromium, screenshot
from hypothesis import given, settings
from hypothesis import strategies as st

from multitrans.api import parse_document
from multitrans.document import Block, Document
from multitrans.formats import format_for
from multitrans.formats.html import HTMLReadError, read
from multitrans.formats.text import read as read_text

PAGE = """<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<title>Fjellet &amp; havet</title>
<link rel="stylesheet" href="/site.css">
<style>p > a { color: red }</style>
<script>if (a < b && "<p>") { go(); }</script>
</head>
<body class="article">
<h1 id="top">Tur til <em>fjellet</em></h1>
<p class='lead'>Les <a href="https://example.org/a?x=1&amp;y=2" rel="noopener">artikkelen</a> om turen
  Kari gikk i går, med <code>git clone</code> og <strong>mye</strong> vann.</p>
<!-- a comment > with a bracket -->
<figure><img src="ridge.jpg" alt="En tåkete rygg" title="Foto: Ola" width="640"><figcaption>Morgen på ryggen</figcaption></figure>
<ul>
  <li>Pakk mat</li>
  <li>Sjekk <b>været</b>
    <ul><li>vind</li></ul>
  </li>
</ul>
<table><caption>Avstander</caption><tr><th>Dag</th><th>Km</th></tr><tr><td>Mandag</td><td>12</td></tr></table>
<blockquote><p>Gå sakte.</p></blockquote>
<p>Linje en<br>linje to</p>
<pre>  kode   her
   blir</pre>
<p translate="no">Ikke oversett dette</p>
<p>Send til <span class="notranslate">Navn Navnesen</span> i dag.</p>
<p>&nbsp;</p>
</body>
</html>
"""


def _protected(block: Block) -> list[str]:
    return [block.text[a:b] for a, b in block.protected]


def _shout(doc: Document, lang: str | None = None) -> str:
    texts = []
    for block in doc.blocks:
        parts, cursor = [], 0
        for start, end in block.protected:
            parts += [block.text[cursor:start].upper(), block.text[start:end]]
            cursor = end
        texts.append("".join(parts) + block.text[cursor:].upper())
    return doc.render(texts, lang=lang)


def structure(page: str) -> list[tuple[str, list[tuple[str, str]], str]]:
    """Every element in document order: tag, attributes that are not translated, verbatim text of code."""
    root = lxml.html.document_fromstring(page.encode(), parser=lxml.html.HTMLParser(encoding="utf-8"))
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            out.append(("#comment", [], el.text or ""))
            continue
        attrs = sorted((k, v) for k, v in el.attrib.items()
                       if k not in ("alt", "title") and not (el.tag == "html" and k in ("lang", "dir")))
        verbatim = el.text_content() if el.tag in ("script", "style", "pre", "code") or el.get("translate") == "no" \
            or "notranslate" in (el.get("class") or "") else ""
        out.append((el.tag, attrs, verbatim))
    return out


def links(page: str) -> list[tuple[str, str]]:
    root = lxml.html.document_fromstring(page.encode(), parser=lxml.html.HTMLParser(encoding="utf-8"))
    return [(el.tag, el.get("href") or el.get("src")) for el in root.iter("a", "img", "link")]


def test_blocks_kinds_and_protected_markup() -> None:
    doc = read(PAGE, "page.html")
    assert doc.format == "html"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("title", "Fjellet &amp; havet"),
        ("heading", "Tur til <em>fjellet</em>"),
        ("paragraph", 'Les <a href="https://example.org/a?x=1&amp;y=2" rel="noopener">artikkelen</a> om turen '
                      "Kari gikk i går, med <code>git clone</code> og <strong>mye</strong> vann."),
        ("alt", "En tåkete rygg"),
        ("tooltip", "Foto: Ola"),
        ("caption", "Morgen på ryggen"),
        ("list_item", "Pakk mat"),
        ("list_item", "Sjekk <b>været</b>"),
        ("list_item", "vind"),
        ("caption", "Avstander"),
        ("table_cell", "Dag"), ("table_cell", "Km"), ("table_cell", "Mandag"), ("table_cell", "12"),
        ("blockquote", "Gå sakte."),
        ("paragraph", "Linje en"), ("paragraph", "linje to"),
        ("paragraph", 'Send til <span class="notranslate">Navn Navnesen</span> i dag.'),
    ]
    assert _protected(doc.blocks[0]) == ["&amp;"]
    assert _protected(doc.blocks[2]) == [
        '<a href="https://example.org/a?x=1&amp;y=2" rel="noopener">', "</a>", "<code>git clone</code>",
        "<strong>", "</strong>",
    ]
    assert _protected(doc.blocks[-1]) == ['<span class="notranslate">Navn Navnesen</span>']
    joined = "\n".join(b.text for b in doc.blocks)
    for never in ("color: red", "go()", "kode", "Ikke oversett", "a comment", "site.css", "ridge.jpg"):
        assert never not in joined


def test_source_is_the_page_as_the_parser_read_it() -> None:
    doc = read(PAGE, "page.html")
    assert structure(doc.source) == structure(PAGE)
    assert doc.source.startswith("<!DOCTYPE html>\n<html lang=\"nb\">")
    assert '<p class="lead">' in doc.source  # quotes normalised, nothing else
    assert "<pre>  kode   her\n   blir</pre>" in doc.source
    assert read(doc.source, "again.html").source == doc.source


def test_translation_keeps_every_element_attribute_link_and_code() -> None:
    doc = read(PAGE, "page.html")
    out = _shout(doc, lang="de")
    assert structure(out) == structure(PAGE)
    assert links(out) == links(PAGE)
    assert "<title>FJELLET &amp; HAVET</title>" in out
    assert 'alt="EN TÅKETE RYGG" title="FOTO: OLA"' in out
    assert '<a href="https://example.org/a?x=1&amp;y=2" rel="noopener">ARTIKKELEN</a>' in out
    assert "<code>git clone</code>" in out and "<p translate=\"no\">Ikke oversett dette</p>" in out
    assert "<p>LINJE EN<br>LINJE TO</p>" in out


def test_language_slots_set_lang_and_dir_only_where_needed() -> None:
    doc = read(PAGE, "page.html")
    assert doc.render([b.text for b in doc.blocks]) == doc.source
    assert '<html lang="de">' in doc.render([b.text for b in doc.blocks], lang="de")
    assert '<html lang="ar" dir="rtl">' in doc.render([b.text for b in doc.blocks], lang="ar")
    assert '<html lang="zh-Hant">' in doc.render([b.text for b in doc.blocks], lang="zh-Hant")
    bare = read("<html><body><p>Hei</p></body></html>", "b.html")
    assert bare.source.startswith("<html><body>")  # no doctype invented, no attribute added
    assert bare.render(["Hallo"], lang="de").startswith('<html lang="de"><body><p>Hallo</p>')
    assert bare.render(["مرحبا"], lang="ar").startswith('<html lang="ar" dir="rtl"><body>')
    ltr = read('<!doctype html><html dir="rtl" lang="he" class="x"><body><p>שלום</p></body></html>', "he.html")
    assert ltr.render(["Hello"], lang="en").startswith('<!DOCTYPE html>\n<html dir="ltr" lang="en" class="x">')


def test_fragment_stays_a_fragment() -> None:
    fragment = 'Intro <b>tekst</b>\n<p>Første avsnitt.</p>\n<img src="a.png" alt="Et bilde">\n'
    doc = read(fragment, "frag.html")
    assert doc.source == fragment
    assert [b.text for b in doc.blocks] == ["Intro <b>tekst</b>", "Første avsnitt.", "Et bilde"]
    assert _shout(doc, lang="ar") == 'INTRO <b>TEKST</b>\n<p>FØRSTE AVSNITT.</p>\n<img src="a.png" alt="ET BILDE">\n'


def test_inline_element_holding_blocks_is_a_container() -> None:
    doc = read('<a href="/sak"><h2>Tittel</h2><p>Ingress her.</p></a>', "teaser.html")
    assert [(b.kind, b.text) for b in doc.blocks] == [("heading", "Tittel"), ("paragraph", "Ingress her.")]


def test_titled_link_inside_a_sentence_is_cut_around_its_attribute() -> None:
    doc = read('<p>Les <a href="/x" title="Mer om saken">her</a> i dag.</p>', "t.html")
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "Les"), ("tooltip", "Mer om saken"), ("paragraph", "her</a> i dag."),
    ]
    assert _shout(doc) == '<p>LES <a href="/x" title="MER OM SAKEN">HER</a> I DAG.</p>'


def test_private_use_characters_and_xml_declaration_are_fine() -> None:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n<html><body><p>A \ue000\ue001 b</p></body></html>'
    doc = read(text, "x.html")
    assert [b.text for b in doc.blocks] == ["A \ue000\ue001 b"]
    assert "<p>A \ue000\ue001 b</p>" in doc.source


def test_empty_input_is_one_clear_error() -> None:
    with pytest.raises(HTMLReadError, match="empty"):
        read("  \n", "e.html")


def test_html_files_are_recognised() -> None:
    assert format_for("a.html") == format_for("B.HTM") == "html"
    assert parse_document("<p>Hei</p>", "a.htm").format == "html"


# --- generated pages ------------------------------------------------------------------

_TEXT = st.sampled_from(["Hei", "verden", "Straße", "مرحبا", "1.000", "a & b", "x < y", "\u00a0", " ", "\n  ", "«sitat»"])
_INLINE = st.sampled_from(["em", "strong", "a", "span", "code", "b"])
_BLOCK = st.sampled_from(["p", "h2", "li", "td", "blockquote", "div", "figcaption"])


@st.composite
def _inline(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 5 if depth < 2 else 1))
        if choice <= 1:
            parts.append(html.escape(draw(_TEXT), quote=False))
        elif choice == 2:
            parts.append(f'<img src="i.png" alt="{html.escape(draw(_TEXT))}">')
        elif choice == 3:
            parts.append("<br>" if draw(st.booleans()) else "<!-- c -->")
        else:
            tag = draw(_INLINE)
            attrs = ' href="/l?a=1&amp;b=2"' if tag == "a" else (' title="Tips"' if draw(st.booleans()) else "")
            parts.append(f"<{tag}{attrs}>{draw(_inline(depth + 1))}</{tag}>")
    return "".join(parts)


@st.composite
def _page(draw: st.DrawFn) -> str:
    blocks = [f"<{t}>{draw(_inline())}</{t}>" for t in draw(st.lists(_BLOCK, min_size=1, max_size=6))]
    body = "\n".join(blocks)
    if draw(st.booleans()):
        return f"<!DOCTYPE html><html><head><title>{html.escape(draw(_TEXT))}</title></head><body>{body}</body></html>"
    return body


@settings(max_examples=150, deadline=None)
@given(_page())
def test_generated_pages_keep_structure_when_translated(page: str) -> None:
    doc = read(page, "gen.html")
    assert read(doc.source, "again.html").source == doc.source
    assert structure(_shout(doc, lang="ar")) == structure(page)
    for block in doc.blocks:
        assert block.text and block.text == block.text.strip()
        previous = 0
        for start, end in block.protected:
            assert previous <= start < end <= len(block.text)
            previous = end


# --- the sample article as a web page, through the CLI and Apertium, in Chromium -------

_URL = re.compile(r"https://[^\s,]+[^\s,./]/?")


def article_html(text: str) -> str:
    """The sample article as a CMS would publish it: headings, paragraphs with links, emphasis,
    bold names, a figure with alt text, a title, a style sheet, a script and a code block."""
    body = []
    for block in read_text(text, "a.txt").blocks:
        t = html.escape(block.text, quote=False)
        t = _URL.sub(lambda m: f'<a href="{m.group()}" rel="noopener">{m.group()}</a>', t)
        t = re.sub(r"«([^»]+)»", r"«<em>\1</em>»", t).replace("Kim Jong Un", "<strong>Kim Jong Un</strong>")
        if block.text.startswith("Featured image: "):
            caption = block.text.split(": ", 1)[1]
            body.append(f'<figure><img src="featured.jpg" alt="{html.escape(caption)}" title="Foto: EM24" '
                        f'width="640" height="360"><figcaption>{t}</figcaption></figure>')
        else:
            body.append(f"<h2>{t}</h2>" if block.kind == "heading" else f"<p>{t}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        "<title>Nord-Korea sender ammunisjon til Russland</title>\n"
        "<style>body { font-family: serif; max-width: 40em } p > a { color: #036 }</style>\n"
        "<script>window.page = {id: 'em24', ok: 1 < 2};</script>\n</head>\n<body>\n<article>\n"
        + "\n".join(body)
        + "\n<pre><code>ikke oversett denne koden</code></pre>\n</article>\n</body>\n</html>\n"
    )


needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")


@pytest.fixture(scope="module")
def translated_article(article: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The article as HTML, translated by the CLI into nn, da, sv offline: (page, out dir, stderr)."""
    if shutil.which("apertium") is None:
        pytest.skip("Apertium is not installed")
    tmp = tmp_path_factory.mktemp("html-article")
    page = tmp / "em24.html"
    page.write_text(article_html(article.read_text(encoding="utf-8")), encoding="utf-8")
    out = tmp / "out"
    result = subprocess.run(
        [sys.executable, "-m", "multitrans", "translate", str(page), "--to", "nn,da,sv", "--out", str(out), "--offline"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 1, result.stderr  # the English header and footer have no model offline
    return page, out, result.stderr


@pytest.mark.slow
@needs_apertium
def test_sample_article_as_html_translates_to_nn_da_sv_with_markup_intact(translated_article) -> None:
    page, out, stderr = translated_article
    assert "Traceback" not in stderr and "warning: not translated: no model available for English" in stderr
    source = page.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in (out / "aligned" / "em24.html.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["kind"] for r in rows][:3] == ["title", "heading", "paragraph"]
    assert {r["source"]["lang"] for r in rows} == {"nb", "en"}
    for lang in ("nn", "da", "sv"):
        text = (out / lang / "em24.html").read_text(encoding="utf-8")
        assert structure(text) == structure(source)
        assert links(text) == links(source)
        assert text.startswith(f'<!DOCTYPE html>\n<html lang="{lang}">')
        assert text.count("<strong>Kim Jong Un</strong>") == source.count("<strong>Kim Jong Un</strong>")
        assert text.count("<em>") == source.count("<em>") == text.count("</em>")
        assert "<pre><code>ikke oversett denne koden</code></pre>" in text
        assert "window.page = {id: 'em24', ok: 1 < 2};" in text
        translated = [r for r in rows if r["translations"][lang]["engine"] == "apertium"]
        assert len(translated) >= 15
        assert sum(r["translations"][lang]["text"] != r["source"]["text"] for r in translated) >= 8
        assert all(r["translations"][lang]["engine"] in ("apertium", None) for r in rows)
    nn = (out / "nn" / "em24.html").read_text(encoding="utf-8")
    assert "ikkje" in nn and "frå" in nn
    da = (out / "da" / "em24.html").read_text(encoding="utf-8")
    assert 'alt="Nordkoreanske våbenleverancer til Rusland" title="Foto: ' in da  # no word strays between them


@pytest.mark.slow
@needs_apertium
@needs_chromium
def test_translated_article_renders_in_headless_chromium(translated_article, tmp_path: Path) -> None:
    """The DOM Chromium builds from each translation has the source's elements, links and language."""
    page, out, _ = translated_article
    source = page.read_text(encoding="utf-8")
    for lang in ("nn", "da", "sv"):
        dom = dump_dom(out / lang / page.name, tmp_path / "profile")
        assert structure(dom) == structure(source)
        assert links(dom) == links(source)
        assert f'<html lang="{lang}">' in dom
    assert "leiar <strong>Kim Jong Un</strong> reiste" in dump_dom(out / "nn" / page.name, tmp_path / "profile")
    width, height = screenshot(out / "nn" / page.name, tmp_path / "nn.png", tmp_path / "profile", (1000, 1400))
    assert (width, height) == (1000, 1400)
    assert distinct_colours(tmp_path / "nn.png", tmp_path / "profile") > 20  # text was drawn, not a blank page


@needs_chromium
def test_right_to_left_translation_renders_right_to_left(tmp_path: Path) -> None:
    """Chromium builds the same DOM from the translation as from the source (it adds `<tbody>` to
    both), with the page's direction set."""
    doc = read(PAGE, "page.html")
    source, page = tmp_path / "page.html", tmp_path / "page.ar.html"
    source.write_text(PAGE, encoding="utf-8")
    page.write_text(_shout(doc, lang="ar"), encoding="utf-8")
    dom = dump_dom(page, tmp_path / "profile")
    assert '<html lang="ar" dir="rtl">' in dom
    assert structure(dom) == structure(dump_dom(source, tmp_path / "profile"))
    assert links(dom) == links(PAGE)


# --- deep markup (issue 13, group 3): read whole or refused, never published with content missing ---


def test_a_page_nested_300_deep_is_read_whole():
    from multitrans.formats.html import read as read_html

    source = "<div>" * 300 + "<p>Inne i dypet.</p>" + "</div>" * 300 + "<p>Etter dypet.</p>"
    document = read_html(source, "deep.html")
    assert [b.text for b in document.blocks] == ["Inne i dypet.", "Etter dypet."]
    assert document.render([b.text.upper() for b in document.blocks]) == source.replace(
        "Inne i dypet.", "INNE I DYPET.").replace("Etter dypet.", "ETTER DYPET.")


@pytest.mark.parametrize("depth", [401, 5000])
def test_a_page_nested_deeper_than_the_reader_takes_is_refused(depth):
    from multitrans.formats.html import MAX_DEPTH, HTMLReadError, read as read_html

    source = "<div>" * depth + "<p>Inne.</p>" + "</div>" * depth + "<p>Etter.</p>"
    with pytest.raises(HTMLReadError, match=f"nested .*{MAX_DEPTH} elements deep"):
        read_html(source, "deep.html")


# --- text left as it is by design is counted (issue 13, group 3: "counted and warned about") ---

FORM_AND_MEDIA = ("<p>Velg et fylke.</p>"
                  '<select name="fylke"><option>Troms</option><option value="n">Nordland</option>'
                  '<optgroup label="Sør"><option label="Agder" value="a"></option></optgroup><option> </option></select>'
                  "<textarea>Skriv her.</textarea>"
                  '<video src="v.mp4">Nettleseren din kan ikke spille av video.</video>'
                  '<script>var tekst = "Hei";</script><style>p { color: red }</style><pre>kode her</pre>'
                  '<audio src="a.ogg"></audio><canvas> </canvas>'
                  '<div translate="no"><textarea>Merket som ikke oversett.</textarea></div>')


def test_text_a_reader_sees_in_skipped_elements_is_counted_and_kept():
    """Option labels (each one a passage: the list shows them one by one), a textarea's text and
    media fallback are counted; scripts, styles, <pre>, empty fallback and what the page marks
    translate="no" are not.  None of it becomes a block: it is kept byte for byte."""
    document = read(FORM_AND_MEDIA, "form.html")
    assert document.untranslated == (("<select>", 4), ("<textarea>", 1), ("<video>", 1))
    assert [b.text for b in document.blocks] == ["Velg et fylke."]
    assert document.render(["VELG ET FYLKE."]) == FORM_AND_MEDIA.replace("Velg et fylke.", "VELG ET FYLKE.")


def test_a_page_without_such_elements_counts_nothing():
    assert read(PAGE, "page.html").untranslated == ()
    assert read('<p>Bare tekst.</p><video src="v.mp4"></video><pre>kode</pre>', "a.html").untranslated == ()


def test_the_note_names_every_kind_with_its_count_and_why():
    from multitrans.formats import untranslated_note

    assert untranslated_note(read(FORM_AND_MEDIA, "form.html")) == (
        "form.html: 6 passages left in the source language by design: 4 in <select>, 1 in <textarea>, "
        "1 in <video> (multitrans does not translate form controls or media fallback)")
    assert untranslated_note(read("<p>Bare tekst.</p>", "a.html")) is None


def test_placeholders_a_reader_sees_are_translated_and_the_text_area_content_is_not() -> None:
    """An input's or text area's hint is page text; what is typed in a text area is the reader's."""
    page = ('<p>Navn: <input name="n" placeholder="Skriv navnet ditt"> takk.</p>'
            '<textarea placeholder="Skriv meldingen her">Innhold</textarea><img alt="Et bilde" placeholder="nei">')
    doc = read(page, "form.html")
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "Navn:"), ("placeholder", "Skriv navnet ditt"), ("paragraph", "takk."),
        ("placeholder", "Skriv meldingen her"), ("alt", "Et bilde")]
    out = doc.render([b.text.upper() for b in doc.blocks])
    assert 'placeholder="SKRIV NAVNET DITT"' in out
    assert '<textarea placeholder="SKRIV MELDINGEN HER">Innhold</textarea>' in out
    assert 'placeholder="nei"' in out  # an image shows no placeholder
    assert doc.untranslated == (("<textarea>", 1),)
