"""The review page: its DOM (columns, rows, directions, highlights), and how headless Chromium lays it out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from _chromium import distinct_colours, dump_dom, evaluate, needs_chromium, screenshot

from multitrans.interchange.review import read_aligned, review_page

RECORDS = [
    {"id": 0, "kind": "heading", "source": {"lang": "en", "text": "ALL ARTICLES"},
     "translations": {
         "nn": {"text": "ALL ARTICLES", "engine": None, "model": None, "note": "not translated: no model for en→nn"},
         "ar": {"text": "كل المقالات", "engine": "nllb", "model": "facebook/nllb-200-distilled-600M", "flags": []},
         "sv": {"text": "ALL ARTICLES", "engine": None, "model": None, "note": "not translated: no model for en→sv"}}},
    {"id": 1, "kind": "paragraph", "source": {"lang": "nb", "text": "Les <a href=\"https://x.no\">saken</a> <script>alert(1)</script> nå."},
     "translations": {
         "nn": {"text": "Les <a href=\"https://x.no\">saka</a> <script>alert(1)</script> no.", "engine": "apertium", "model": "apertium"},
         "ar": {"text": "اقرأ <a href=\"https://x.no\">القصة</a> <script>alert(1)</script> الآن.", "engine": "nllb",
                "model": "facebook/nllb-200-distilled-600M", "runtime": "ctranslate2-int8",
                "flags": [{"code": "untranslated_words", "detail": "'saken' kept"}]},
         "sv": {"text": "Läs <a href=\"https://x.no\">saken</a> <script>alert(1)</script> nu.", "engine": "apertium", "model": "apertium"}}},
    {"id": 2, "kind": "paragraph", "source": {"lang": "nb", "text": "Det kom 1.000 containere."},
     "translations": {
         "nn": {"text": "Det kom 1.000 konteinarar.", "engine": "apertium", "model": "apertium"},
         "ar": {"text": "وصلت 1.000 حاوية.", "engine": "nllb", "model": "facebook/nllb-200-distilled-600M"},
         "sv": {"text": "Det kom 1.000 containrar.", "engine": "apertium", "model": "apertium",
                "flags": [{"code": "length_ratio", "detail": "0.4 of the source"}]}}},
]


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page.encode(), parser=lxml.html.HTMLParser(encoding="utf-8"))


def test_columns_rows_directions_and_highlights() -> None:
    page = review_page(RECORDS, "em24.txt")
    root = parse(page)
    heads = root.xpath("//thead/tr/th")
    assert [h.text_content() for h in heads] == [
        "#", "Source · English (en), Norwegian Bokmål (nb)", "Norwegian Nynorsk (nn)", "Arabic (ar)", "Swedish (sv)"]
    assert [h.get("dir") for h in heads[1:]] == ["ltr", "ltr", "rtl", "ltr"]
    rows = root.xpath("//tbody/tr")
    assert [r.get("id") for r in rows] == ["b0", "b1", "b2"]
    assert all(len(r.xpath("td")) == 5 for r in rows)
    assert [td.get("dir") for td in root.xpath("//tbody/tr/td[@lang='ar']")] == ["rtl"] * 3
    assert [td.get("lang") for td in rows[0].xpath("td")[1:]] == ["en", "nn", "ar", "sv"]
    assert root.xpath("//td[contains(@class, 'untranslated')]/@lang") == ["nn", "sv"]
    assert sorted(root.xpath("//td[contains(@class, 'flagged')]/@lang")) == ["ar", "sv"]
    flagged = root.xpath("//tr[@id='b1']/td[@lang='ar']")[0]
    assert flagged.xpath(".//ul[@class='flags']/li/text()") == ["untranslated_words: 'saken' kept"]
    assert flagged.xpath(".//div[@class='meta']/text()") == ["nllb · facebook/nllb-200-distilled-600M · ctranslate2-int8"]
    assert root.xpath("//tr[@id='b0']/td[@lang='nn']//li/text()") == ["not translated: no model for en→nn"]
    assert root.xpath("//span[@class='flag-count']/text()") == ["4"]


def test_page_is_self_contained_escaped_and_reproducible() -> None:
    page = review_page(RECORDS, "em24.txt")
    root = parse(page)
    assert root.xpath("//script") == [] and root.xpath("//a") == []  # article markup is shown, never run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not root.xpath("//*[@src] | //link | //*[@href]")
    assert review_page(RECORDS, "em24.txt") == page


def test_targets_pick_and_order_columns() -> None:
    root = parse(review_page(RECORDS, "x", ["sv", "nn"]))
    assert [h.get("data-lang") for h in root.xpath("//thead/tr/th")[2:]] == ["sv", "nn"]
    with pytest.raises(ValueError, match="none of the requested languages"):
        review_page(RECORDS, "x", ["de"])


def test_aligned_jsonl_is_read_and_bad_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    assert read_aligned(path) == RECORDS
    path.write_text(json.dumps(RECORDS[0]) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match="a.jsonl:2"):
        read_aligned(path)


@needs_chromium
def test_review_page_renders_side_by_side_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "review.html"
    page.write_text(review_page(RECORDS, "em24.txt"), encoding="utf-8")
    profile = tmp_path / "profile"
    dom = lxml.html.fromstring(dump_dom(page, profile))
    assert len(dom.xpath("//thead/tr/th")) == 5 and len(dom.xpath("//tbody/tr")) == 3
    assert len(dom.xpath("//tbody/tr/td[@dir='rtl']")) == 3
    layout = evaluate(page, (
        "Array.from(doc.querySelectorAll('tbody tr')).map(tr => Array.from(tr.cells).map(td => {"
        " const r = td.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top),"
        " win.getComputedStyle(td).direction, win.getComputedStyle(td).backgroundColor]; }))"
    ), profile)
    assert isinstance(layout, list) and len(layout) == 3
    for row in layout:
        lefts, tops = [c[0] for c in row], [c[1] for c in row]
        assert lefts == sorted(lefts) and len(set(lefts)) == 5  # five columns, left to right
        assert len(set(tops)) == 1  # side by side on one line
    assert [row[3][2] for row in layout] == ["rtl"] * 3  # the Arabic column is laid out right to left
    assert [row[2][2] for row in layout] == ["ltr"] * 3
    assert layout[1][3][3] != layout[1][2][3]  # the flagged cell is highlighted, its neighbour is not
    width, height = screenshot(page, tmp_path / "review.png", profile, (1600, 900))
    assert (width, height) == (1600, 900)
    assert distinct_colours(tmp_path / "review.png", profile) > 20


@pytest.mark.slow
@needs_chromium
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
def test_review_command_on_the_article_and_on_its_aligned_jsonl(article: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "multitrans", *args], capture_output=True, text=True,
                              timeout=300, env=env)

    page = tmp_path / "review.html"
    made = cli("review", str(article), "--to", "nn,da,sv", "--out", str(page), "--offline")
    assert made.returncode == 1, made.stderr  # the English lines are reported, the page is written
    assert "warning: not translated" in made.stderr
    translated = cli("translate", str(article), "--to", "nn,da,sv", "--out", str(tmp_path / "t"), "--offline",
                     "--no-memory")
    aligned = tmp_path / "t" / "aligned" / f"{article.name}.jsonl"
    from_jsonl = cli("review", str(aligned), "--out", str(tmp_path / "again.html"))
    assert from_jsonl.returncode == 0, from_jsonl.stderr + translated.stderr
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
    dom = lxml.html.fromstring(dump_dom(page, tmp_path / "profile"))
    assert len(dom.xpath("//thead/tr/th")) == 5
    assert len(dom.xpath("//tbody/tr")) == 14
    assert len(dom.xpath("//td[contains(@class, 'untranslated')]")) == 6  # 2 English blocks × 3 languages
    assert dom.xpath("//tr[@id='b1']/td[@lang='nn']/@data-engine") == ["apertium"]
    assert "ikkje" in dom.xpath("string(//tbody)") and "frå" in dom.xpath("string(//tbody)")
    assert screenshot(page, tmp_path / "article.png", tmp_path / "profile", (1400, 1000)) == (1400, 1000)
    assert distinct_colours(tmp_path / "article.png", tmp_path / "profile") > 20
