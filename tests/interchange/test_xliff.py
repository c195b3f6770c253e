"""XLIFF 2.1 export and import, and TMX export of an article: round trips, edits, and the memory.

Most tests build a DocumentResult by hand (a "shouting" engine: sentences upper-cased,
markup kept), so they exercise exactly the exchange code; the slow ones go through the
CLI with real Apertium and the real translation memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from multitrans.api import BlockTranslation, DocumentResult, parse_document
from multitrans.document import Document
from multitrans.pipeline.segment import segment_block
from multitrans.interchange.xliff import MTC, XLIFF, XliffError, block_segments, export_xliff, import_xliff

NS = {"x": XLIFF, "mtc": MTC}
MARKDOWN = (
    "# Fjellet *kaller*\n\nTuren starter ved [stasjonen](https://example.org/s?a=1&b=2). Den tar 3 timer.\n"
    "Ta med `git clone` og vann.\n\n- Pakk mat\n- Sjekk været\n\nHello there, this is English.\n"
)
HTML = (
    '<!DOCTYPE html>\n<html lang="nb"><head><title>Tur &amp; fjell</title></head><body>\n'
    '<h1>Fjellet <em>kaller</em></h1>\n<p>Les <a href="/a?x=1&amp;y=2">saken</a> her. Den er lang.</p>\n'
    '<figure><img src="r.jpg" alt="En rygg"><figcaption>Morgen</figcaption></figure>\n</body></html>\n'
)


@dataclass(frozen=True)
class FakeFlag:
    code: str
    detail: str


def shout(text: str, protected: list[tuple[int, int]]) -> str:
    parts, cursor = [], 0
    for start, end in protected:
        parts += [text[cursor:start].upper(), text[start:end]]
        cursor = end
    return "".join(parts) + text[cursor:].upper()


def result_for(document: Document, lang: str = "de", english: tuple[int, ...] = ()) -> DocumentResult:
    """What a run would return: blocks in `english` are 'en' with no model (untranslated); the
    rest are Norwegian, translated sentence by sentence by the shouting engine."""
    block_langs = tuple("en" if b.id in english else "nb" for b in document.blocks)
    blocks = []
    for block, block_lang in zip(document.blocks, block_langs):
        if block_lang == "en":
            blocks.append(BlockTranslation(block.text, None, None, "not translated: no model available"))
            continue
        pieces = segment_block(block.text, block_lang, block.protected)
        offset, parts = 0, []
        for piece in pieces:
            spans = [(max(a, offset) - offset, min(b, offset + len(piece.text)) - offset)
                     for a, b in block.protected if a < offset + len(piece.text) and b > offset]
            parts.append(shout(piece.text, spans) if piece.translate else piece.text)
            offset += len(piece.text)
        translation = BlockTranslation("".join(parts), "marian", "tiny/opus-mt-nb-de", pieces=tuple(zip(pieces, parts)))
        if block.id == 1:
            object.__setattr__(translation, "flags", (FakeFlag("untranslated_words", "3 words kept in Norwegian"),))
        blocks.append(translation)
    return DocumentResult(document, "nb", 1.0, block_langs, {lang: blocks})


IDENTITIES = {("marian", "tiny/opus-mt-nb-de"): {"engine": "marian", "model": "tiny/opus-mt-nb-de", "revision": "abc",
                                                  "runtime": "transformers", "quantization": "float32",
                                                  "decoding": '{"beam":1}'}}


@pytest.mark.parametrize("text,name", [(MARKDOWN, "post.md"), (HTML, "page.html"),
                                       ("Tittel\n\nEn setning. To setninger.\n \n\u00a0\nSlutt.\n", "a.txt")])
def test_untouched_round_trip_rebuilds_the_identical_document(text: str, name: str) -> None:
    document = parse_document(text, name)
    result = result_for(document, english=(len(document.blocks) - 1,))
    xlf = export_xliff(result, "de", IDENTITIES)
    imported = import_xliff(xlf)
    assert imported.text() == result.text("de")
    assert imported.edits == [] and imported.problems == []
    assert import_xliff(export_xliff(result, "de")).text() == result.text("de")  # without identities too


def test_file_layout_units_segments_codes_notes_and_matches() -> None:
    document = parse_document(MARKDOWN, "post.md")
    result = result_for(document, english=(4,))
    root = etree.fromstring(export_xliff(result, "de", IDENTITIES).encode())
    assert root.tag == f"{{{XLIFF}}}xliff" and root.get("version") == "2.1"
    assert (root.get("srcLang"), root.get("trgLang")) == ("nb", "de")
    units = root.findall("x:file/x:unit", NS)
    assert [u.get("type") for u in units] == ["mt:heading", "mt:paragraph", "mt:list_item", "mt:list_item", "mt:paragraph"]
    assert root.find("x:file/x:skeleton", NS).text == MARKDOWN
    paragraph = units[1]
    segments = paragraph.findall("x:segment", NS)
    assert len(segments) == 3  # one per sentence
    assert [i.find("x:source", NS).text for i in paragraph.findall("x:ignorable", NS)] == [" ", "\n"]
    first = segments[0].find("x:source", NS)
    assert first.text == "Turen starter ved " and [ph.get("id") for ph in first.iter(f"{{{XLIFF}}}ph")] == ["c1", "c2"]
    data = {d.get("id"): d.text for d in paragraph.find("x:originalData", NS)}
    assert data == {"d1": "[", "d2": "](https://example.org/s?a=1&b=2)", "d3": "`git clone`"}
    target = segments[0].find("x:target", NS)
    assert target.text == "TUREN STARTER VED " and [ph.get("id") for ph in target.iter(f"{{{XLIFF}}}ph")] == ["c1", "c2"]
    notes = {(n.get("category"), n.text) for n in paragraph.find("x:notes", NS)}
    assert {("engine", "marian"), ("model", "tiny/opus-mt-nb-de"),
            ("quality", "untranslated_words: 3 words kept in Norwegian")} <= notes
    matches = paragraph.findall("mtc:matches/mtc:match", NS)
    assert [m.get("ref") for m in matches] == ["#s0", "#s2", "#s4"]
    assert matches[0].find("x:target", NS).text == "TUREN STARTER VED [STASJONEN](https://example.org/s?a=1&b=2)."
    english = units[4]
    assert english.find("x:segment", NS).get("state") == "initial"
    assert english.find("x:segment/x:target", NS) is None
    assert ("engine", "none") in {(n.get("category"), n.text) for n in english.find("x:notes", NS)}


def _edit(xlf: str, unit: int, segment: str, new_target: str | None = None, drop_codes: bool = False,
          move_code: bool = False) -> str:
    root = etree.fromstring(xlf.encode())
    target = root.find(f"x:file/x:unit[@id='u{unit}']/x:segment[@id='{segment}']/x:target", NS)
    if new_target is not None:
        target.text = new_target
        for ph in list(target):
            if drop_codes:
                target.remove(ph)
    if move_code:  # the translator moves the link's closing code before the link text
        first, second = target[0], target[1]
        second.tail, first.tail = (first.tail or "") + (second.tail or ""), ""
    return etree.tostring(root, encoding="unicode")


def test_an_edited_segment_lands_in_its_place_and_nothing_else_changes() -> None:
    document = parse_document(MARKDOWN, "post.md")
    result = result_for(document)
    xlf = export_xliff(result, "de", IDENTITIES)
    edited = _edit(xlf, 1, "s2", "Sie dauert drei Stunden.")
    imported = import_xliff(edited)
    [edit] = imported.edits
    assert (edit.unit, edit.segment, edit.src, edit.tgt) == (1, "s2", "nb", "de")
    assert (edit.source, edit.machine, edit.edited) == ("Den tar 3 timer.", "DEN TAR 3 TIMER.", "Sie dauert drei Stunden.")
    assert edit.identity == IDENTITIES[("marian", "tiny/opus-mt-nb-de")]
    before, after = result.text("de"), imported.text()
    assert after == before.replace("DEN TAR 3 TIMER.", "Sie dauert drei Stunden.")
    assert [a == b for a, b in zip(imported.texts, [t.text for t in result.translations["de"]])] == \
        [True, False, True, True, True]


def test_translator_may_move_codes_but_not_drop_them() -> None:
    document = parse_document(MARKDOWN, "post.md")
    result = result_for(document)
    xlf = export_xliff(result, "de", IDENTITIES)
    moved = import_xliff(_edit(xlf, 1, "s0", move_code=True))
    assert "TUREN STARTER VED [](https://example.org/s?a=1&b=2)STASJONEN." in moved.text()
    assert len(moved.edits) == 1 and moved.problems == []
    dropped = import_xliff(_edit(xlf, 1, "s0", "Der Weg beginnt am Bahnhof.", drop_codes=True))
    assert dropped.edits == [] and "drops inline code(s) c1, c2" in dropped.problems[0]
    assert dropped.text() == result.text("de")  # the machine translation was kept, markup intact


def test_characters_xml_cannot_hold_travel_as_cp() -> None:
    document = parse_document("Hei du.\n", "a.txt")
    [block] = document.blocks
    [piece] = segment_block(block.text, "nb", ())
    translation = BlockTranslation("Hallo\x0bdu.", "marian", "m", pieces=((piece, "Hallo\x0bdu."),))
    result = DocumentResult(document, "nb", 1.0, ("nb",), {"de": [translation]})
    xlf = export_xliff(result, "de")
    assert '<cp hex="000B"/>' in xlf
    assert import_xliff(xlf).text() == "Hallo\x0bdu.\n"


def test_files_that_cannot_be_imported_say_why() -> None:
    document = parse_document(MARKDOWN, "post.md")
    xlf = export_xliff(result_for(document), "de")
    with pytest.raises(XliffError, match="not well-formed"):
        import_xliff(xlf[:-20])
    with pytest.raises(XliffError, match="not an XLIFF 2"):
        import_xliff('<?xml version="1.0"?><xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"/>')
    changed = xlf.replace("Pakk mat", "Pakk mye mat", 1)  # the skeleton no longer matches the units
    with pytest.raises(XliffError, match="no longer matches block"):
        import_xliff(changed)
    entity = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(XliffError):
        import_xliff(entity)


def test_block_without_pieces_is_one_segment() -> None:
    document = parse_document("Hei. Hallo.\n", "a.txt")
    [block] = document.blocks
    segments = block_segments(block, "nb", BlockTranslation("HEI. HALLO.", "marian", "m"))
    assert [(s.source, s.target) for s in segments] == [("Hei. Hallo.", "HEI. HALLO.")]


# --- through the CLI, with Apertium and the translation memory -----------------------------------

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multitrans", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.mark.slow
@needs_apertium
def test_xliff_round_trip_with_one_edit_and_the_next_run_reuses_it(article: Path, tmp_path: Path) -> None:
    """The issue's "done when": export, edit one segment, import: exactly that segment changes,
    and the next `translate` run takes it from the memory, even though an earlier `translate`
    had stored the machine translation of that sentence there."""
    out = tmp_path / "out"
    exported = cli("export", str(article), "--to", "da", "--format", "xliff", "--out", str(out), "--offline")
    assert exported.returncode == 1, exported.stderr  # English header/footer: no model offline
    xlf = out / f"{article.name}.da.xlf"
    machine = cli("translate", str(article), "--to", "da", "--out", str(out), "--offline")
    assert machine.returncode == 1, machine.stderr
    machine_text = (out / "da" / article.name).read_text(encoding="utf-8")

    untouched = cli("import", str(xlf), "--out", str(tmp_path / "same"), "--no-memory")
    assert untouched.returncode == 0, untouched.stderr
    assert (tmp_path / "same" / "da" / article.name).read_text(encoding="utf-8") == machine_text

    root = etree.fromstring(xlf.read_bytes())
    segment = root.find("x:file/x:unit[@id='u4']/x:segment[@id='s0']", NS)
    old = segment.find("x:target", NS).text
    assert "talsmand" in old
    segment.find("x:target", NS).text = "Det Hvide Hus' talsperson for national sikkerhed, John Kirby, har oplyst noget."
    xlf.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    imported = cli("import", str(xlf), "--out", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "1 edited segment(s), 1 kept in the translation memory" in imported.stderr
    text = (out / "da" / article.name).read_text(encoding="utf-8")
    assert text == machine_text.replace(old, "Det Hvide Hus' talsperson for national sikkerhed, John Kirby, har oplyst noget.")
    assert text != machine_text

    again = cli("translate", str(article), "--to", "da", "--out", str(out), "--offline")
    assert again.returncode == 1, again.stderr
    assert (out / "da" / article.name).read_text(encoding="utf-8") == text
    rows = [json.loads(line) for line in (out / "aligned" / f"{article.name}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows if row["translations"]["da"]["attempt"] == "human_edit"] == [4]
    memory = json.loads(cli("memory", "stats", "--out", str(out), "--json").stdout)
    assert memory["entries"] >= 10


@pytest.mark.slow
@needs_apertium
def test_tmx_export_of_the_article_is_aligned_and_reproducible(article: Path, tmp_path: Path) -> None:
    first = cli("export", str(article), "--to", "nn,da", "--format", "tmx", "--out", str(tmp_path / "a"), "--offline")
    assert first.returncode == 1, first.stderr
    second = cli("export", str(article), "--to", "nn,da", "--format", "tmx", "--out", str(tmp_path / "b"), "--offline")
    tmx = tmp_path / "a" / f"{article.name}.tmx"
    assert tmx.read_bytes() == (tmp_path / "b" / f"{article.name}.tmx").read_bytes(), second.stderr
    root = etree.parse(str(tmx)).getroot()
    units = root.findall("body/tu")
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    pairs = [tuple(tuv.get(lang) for tuv in tu.findall("tuv")) for tu in units]
    assert set(pairs) == {("nb", "nn"), ("nb", "da")}
    assert pairs.count(("nb", "nn")) == pairs.count(("nb", "da")) >= 15  # one unit per sentence and target
    sources = [tu.find("tuv/seg").text for tu in units]
    assert "Talsmann John Kirby" in sources and not any("ALL ARTICLES" in s for s in sources)
    assert all(tu.find("prop[@type='x-engine']").text == "apertium" for tu in units)


def test_edits_go_into_the_memory_under_the_engine_key_and_replace_machine_translation(tmp_path: Path) -> None:
    """`import` stores an edit where the next run looks, in place of the machine translation
    the memory held for that key; a later machine translation never replaces an edit."""
    from multitrans.engines.identity import EngineIdentity
    from multitrans.interchange.exchange import remember_edits
    from multitrans.memory.store import Entry, TranslationMemory

    document = parse_document(MARKDOWN, "post.md")
    xlf = export_xliff(result_for(document), "de", IDENTITIES)
    identity = EngineIdentity(**IDENTITIES[("marian", "tiny/opus-mt-nb-de")])
    key = identity.key("nb", "de", "Den tar 3 timer.")
    fresh = import_xliff(_edit(xlf, 1, "s2", "Sie dauert drei Stunden."))
    assert remember_edits(fresh, tmp_path / "m.sqlite") == 1 and fresh.problems == []
    with TranslationMemory(tmp_path / "m.sqlite") as memory:
        [hit] = memory.lookup([key]).values()
    assert hit.translation == "Sie dauert drei Stunden." and hit.attempt == "human_edit"

    machine = Entry(key, identity, "nb", "de", "Den tar 3 timer.", "DEN TAR 3 TIMER.")
    with TranslationMemory(tmp_path / "held.sqlite") as memory:
        memory.store([machine])
    held = import_xliff(_edit(xlf, 1, "s2", "Sie dauert drei Stunden."))
    assert remember_edits(held, tmp_path / "held.sqlite") == 1 and held.problems == []
    with TranslationMemory(tmp_path / "held.sqlite") as memory:
        assert memory.lookup([key])[key].translation == "Sie dauert drei Stunden."
        assert memory.store([machine]) == 0  # a rerun's machine translation does not undo the edit
        assert memory.lookup([key])[key].translation == "Sie dauert drei Stunden."
    again = import_xliff(_edit(xlf, 1, "s2", "Es dauert drei Stunden."))
    assert remember_edits(again, tmp_path / "held.sqlite") == 1  # a newer edit replaces an older one
    with TranslationMemory(tmp_path / "held.sqlite") as memory:
        assert memory.lookup([key])[key].translation == "Es dauert drei Stunden."

    anonymous = import_xliff(_edit(export_xliff(result_for(document), "de"), 1, "s2", "Sie dauert drei Stunden."))
    assert remember_edits(anonymous, tmp_path / "none.sqlite") == 0
    assert "no engine metadata" in anonymous.problems[0]


# --- hostile imports (issue 13, group 6): a target is plain text, its codes only the source's ----------


def _set(xlf: str, unit: int, segment: str, text: str, match_too: bool = False) -> str:
    """Replace a segment's target (and with `match_too` its machine translation match) by plain text."""
    root = etree.fromstring(xlf.encode())
    paths = [f"x:file/x:unit[@id='u{unit}']/x:segment[@id='{segment}']/x:target"]
    if match_too:
        paths.append(f"x:file/x:unit[@id='u{unit}']/mtc:matches/mtc:match[@ref='#{segment}']/x:target")
    for path in paths:
        target = root.find(path, NS)
        for child in list(target):
            target.remove(child)
        target.text = text
    return etree.tostring(root, encoding="unicode")


def _page_elements(html: str) -> list[str]:
    import lxml.html

    return [e.tag for e in lxml.html.document_fromstring(html).iter() if isinstance(e.tag, str)]


@pytest.mark.parametrize("match_too", [False, True])
def test_an_html_target_is_plain_text_and_cannot_inject_markup(match_too: bool) -> None:
    result = result_for(parse_document(HTML, "page.html"))
    xlf = export_xliff(result, "de", IDENTITIES)
    hostile = "a < b <img src=x onerror=alert(1)> R&D"
    imported = import_xliff(_set(xlf, 2, "s2", hostile, match_too))
    page = imported.text()
    assert "a &lt; b &lt;img src=x onerror=alert(1)&gt; R&amp;D" in page
    assert "onerror" not in " ".join(_page_elements(page)) and _page_elements(page).count("img") == 1
    assert [e.edited for e in imported.edits] == ([] if match_too else ["a &lt; b &lt;img src=x onerror=alert(1)&gt; R&amp;D"])


def test_an_html_attribute_target_cannot_close_its_attribute() -> None:
    result = result_for(parse_document(HTML, "page.html"))
    imported = import_xliff(_set(export_xliff(result, "de", IDENTITIES), 3, "s0", 'x" onerror="alert(1)'))
    import lxml.html

    img = lxml.html.document_fromstring(imported.text()).find(".//img")
    assert img.get("alt") == 'x" onerror="alert(1)' and img.get("onerror") is None


def test_a_markdown_target_keeps_honest_text_and_cannot_open_raw_html() -> None:
    result = result_for(parse_document(MARKDOWN, "post.md"))
    xlf = export_xliff(result, "de", IDENTITIES)
    imported = import_xliff(_set(xlf, 1, "s2", "R&D: a < b, <script>alert(1)</script> &amp;"))
    assert "R&D: a < b, &lt;script>alert(1)&lt;/script> &amp;amp;" in imported.text()
    assert "<script>" not in imported.text()


def test_a_plain_text_target_is_written_as_it_is() -> None:
    result = result_for(parse_document("Tittel\n\nEn setning. To setninger.\n", "a.txt"))
    xlf = export_xliff(result, "de", IDENTITIES)
    units = etree.fromstring(xlf.encode()).findall("x:file/x:unit", NS)
    segment = units[1].find("x:segment", NS).get("id")
    assert "a < b <b> R&D" in import_xliff(_set(xlf, 1, segment, "a < b <b> R&D")).text()


def _add_code(xlf: str, unit: int, segment: str, data_id: str, code: str, original: str | None) -> str:
    """The target gains a `<ph>` (to new original data when `original` is given)."""
    root = etree.fromstring(xlf.encode())
    unit_el = root.find(f"x:file/x:unit[@id='u{unit}']", NS)
    if original is not None:
        etree.SubElement(unit_el.find("x:originalData", NS), f"{{{XLIFF}}}data", id=data_id).text = original
    target = unit_el.find(f"x:segment[@id='{segment}']/x:target", NS)
    target.text = "Neu "
    etree.SubElement(target, f"{{{XLIFF}}}ph", id=code, dataRef=data_id).tail = " Text."
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("data_id, code, original", [("d9", "c9", "<script>alert(1)</script>"),  # invented
                                                     ("d1", "c1", None)])  # the source's, a second time
def test_a_target_may_not_add_or_repeat_an_inline_code(data_id: str, code: str, original: str | None) -> None:
    result = result_for(parse_document(HTML, "page.html"))
    xlf = _add_code(export_xliff(result, "de", IDENTITIES), 2, "s0", data_id, code, original)
    if code == "c1":  # s0 already holds c1; add it again
        root = etree.fromstring(xlf.encode())
        target = root.find("x:file/x:unit[@id='u2']/x:segment[@id='s0']/x:target", NS)
        etree.SubElement(target, f"{{{XLIFF}}}ph", id="c1", dataRef="d1")
        xlf = etree.tostring(root, encoding="unicode")
    imported = import_xliff(xlf)
    assert imported.edits == []
    assert [p for p in imported.problems if "adds inline code" in p and "the machine translation was kept" in p]
    assert imported.text() == result.text("de")
    assert "<script>" not in imported.text()


@pytest.mark.parametrize("lang", [".multitrans", "../x", "x" * 5000])
def test_the_target_language_must_be_a_language_code(lang: str) -> None:
    result = result_for(parse_document(MARKDOWN, "post.md"))
    xlf = export_xliff(result, "de", IDENTITIES).replace('trgLang="de"', f'trgLang="{lang}"')
    with pytest.raises(XliffError, match="trgLang .* is not a language code") as caught:
        import_xliff(xlf)
    assert len(str(caught.value)) < 200


def test_a_bad_cp_value_names_the_file_and_unit() -> None:
    result = result_for(parse_document(MARKDOWN, "post.md"))
    xlf = export_xliff(result, "de", IDENTITIES)
    for bad in ("zz", "110000"):
        edited = xlf.replace("<target>DEN TAR 3 TIMER.</target>", f'<target>DEN<cp hex="{bad}"/></target>')
        with pytest.raises(XliffError, match=r"x\.xlf: unit u1: <cp hex=.* is not a Unicode code point"):
            import_xliff(edited, "x.xlf")


@pytest.mark.parametrize("bad", ["D800", "dfff"])
def test_a_cp_naming_a_lone_surrogate_is_refused_with_file_and_unit(bad: str) -> None:
    """A surrogate half is no character: accepted, it failed later, writing the UTF-8 output."""
    result = result_for(parse_document(MARKDOWN, "post.md"))
    xlf = export_xliff(result, "de", IDENTITIES)
    edited = xlf.replace("<target>DEN TAR 3 TIMER.</target>", f'<target>DEN<cp hex="{bad}"/></target>')
    with pytest.raises(XliffError, match=rf"x\.xlf: unit u1: <cp hex='{bad}'> is a lone surrogate, not a character"):
        import_xliff(edited, "x.xlf")
