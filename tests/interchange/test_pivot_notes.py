"""XLIFF notes and the review page of a block a pivot route translated name both hops."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from fakes import Scripted, ScriptedDetector, make_doc, pool_of, reverse_words

from multitrans.api import translate_documents
from multitrans.config.registry import load_registry
from multitrans.engines.base import EngineOptions, ModelSpec
from multitrans.interchange.review import review_page
from multitrans.interchange.xliff import export_xliff

TEXT = "Kongen bodde i et stort slott ved sjøen."


def pivot_result(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  to-en: {engine: nllb, model: x/to-en}\n  from-en: {engine: nllb, model: x/from-en}\n"
                    "routes:\n  - {from: nb, to: en, use: [to-en]}\n  - {from: en, to: de, use: [from-en]}\n"
                    "  - {from: nb, to: de, via: en}\n", encoding="utf-8")
    made = {name: Scripted(ModelSpec(name, "nllb", model=f"x/{name}"), EngineOptions(),
                           script=lambda t, s, g, d, name=name: f"{reverse_words(t)} <{name}>")
            for name in ("to-en", "from-en")}
    [result] = translate_documents([make_doc(TEXT)], ["de"], registry=load_registry(path), pool=pool_of(made),
                                   detector=ScriptedDetector("nb"), source_lang="nb")
    return result


def test_xliff_notes_name_both_hops_and_the_bridge_text(tmp_path: Path) -> None:
    root = etree.fromstring(export_xliff(pivot_result(tmp_path), "de").encode("utf-8"))
    notes = {n.get("category"): n.text for n in root.iter("{*}note")}
    assert notes["engine"] == "pivot" and notes["model"] == "x/to-en > x/from-en"
    assert notes["hop-1"] == f"nllb x/to-en: {reverse_words(TEXT)} <to-en>"
    assert notes["hop-2"] == "nllb x/from-en"


def test_the_review_page_names_both_hops(tmp_path: Path) -> None:
    page = review_page(pivot_result(tmp_path).records(), "a.txt")
    assert "hop 1: nllb · x/to-en" in page and "hop 2: nllb · x/from-en" in page
