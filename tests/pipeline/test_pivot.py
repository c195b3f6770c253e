"""Pivot routes through the pipeline: fallback order, the first hop once for every target and
document, protected spans across both hops, repair of either hop, and the aligned record."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import Scripted, ScriptedDetector, make_doc, pool_of, reverse_words

from multitrans.api import translate_documents
from multitrans.config.registry import load_registry
from multitrans.engines.base import EngineOptions, ModelSpec
from multitrans.engines.pivot import PivotSpec

SENTENCE = "Nord-Korea har sendt 1.000 containere til Russland, se https://example.org/a for mer."
OTHER = "Kongen bodde i et stort slott ved sjøen."


def registry_file(tmp_path: Path, routes: str) -> Path:
    models = "\n".join(f"  {m}: {{engine: nllb, model: x/{m}}}" for m in ("direct", "to-en", "from-en", "big"))
    path = tmp_path / "models.yaml"
    path.write_text(f"models:\n{models}\nroutes:\n{routes}", encoding="utf-8")
    return path


PIVOT_ROUTES = """\
  - {from: nb, to: en, use: [to-en]}
  - {from: en, to: [de, fr, es], use: [from-en]}
  - {from: nb, to: [de, fr, es], via: en}
  - {from: "*", to: "*", use: [big]}
"""


def engines(**scripts) -> dict[str, Scripted]:
    """Scripted engines whose output names the engine (so a test can tell which hop wrote what)."""
    made = {}
    for name in ("direct", "to-en", "from-en", "big"):
        script = scripts.get(name, lambda t, s, g, d, name=name: f"{reverse_words(t)} <{name} {g}>")
        made[name] = Scripted(ModelSpec(name, "nllb", model=f"x/{name}"), EngineOptions(), script=script)
    return made


def run(docs, targets, registry, made, **kwargs):
    return translate_documents(docs, targets, registry=registry, pool=pool_of(made),
                               detector=ScriptedDetector("nb"), source_lang="nb", **kwargs)


def test_a_pivot_route_is_one_candidate_between_the_routes_around_it(tmp_path):
    registry = load_registry(registry_file(tmp_path, "  - {from: nb, to: de, use: [direct]}\n" + PIVOT_ROUTES))
    candidates = registry.candidates("nb", "de")
    assert [c.name for c in candidates] == ["direct", "via en", "big"]
    pivot = candidates[1]
    assert isinstance(pivot, PivotSpec)
    # the catch-all serves nb→de itself, so it is no hop
    assert [s.name for s in pivot.first] == ["to-en"] and [s.name for s in pivot.second] == ["from-en"]
    assert registry.route_names("nb", "de")[1] == "via en (to-en → from-en)"
    # no pivot where the bridge is an end of the pair, and hops never pivot themselves
    assert [c.name for c in registry.candidates("nb", "en")] == ["to-en", "big"]


def test_use_names_each_hops_models_and_via_is_validated(tmp_path):
    registry = load_registry(registry_file(tmp_path, "  - {from: nb, to: de, via: en, use: [[to-en], [from-en, big]]}\n"))
    [pivot] = registry.candidates("nb", "de")
    assert [s.name for s in pivot.first] == ["to-en"] and [s.name for s in pivot.second] == ["from-en", "big"]
    from multitrans.config.registry import RegistryError

    with pytest.raises(RegistryError, match="two entries"):
        load_registry(registry_file(tmp_path, "  - {from: nb, to: de, via: en, use: [to-en]}\n"))
    with pytest.raises(RegistryError, match="routes.via"):
        load_registry(registry_file(tmp_path, "  - {from: nb, to: de, via: xx-nonsense}\n"))


def test_direct_first_then_the_pivot_then_the_catch_all(tmp_path):
    registry = load_registry(registry_file(tmp_path, "  - {from: nb, to: de, use: [direct]}\n" + PIVOT_ROUTES))
    made = engines()
    [result] = run([make_doc(OTHER)], ["de"], registry, {**made})
    assert result.translations["de"][0].engine == "nllb"  # the direct model served it
    assert made["to-en"].calls == []

    [result] = run([make_doc(OTHER)], ["de"], registry, {**made, "direct": None})
    block = result.translations["de"][0]
    assert block.engine == "pivot" and block.model == "x/to-en > x/from-en"
    assert block.text == f"{reverse_words(reverse_words(OTHER) + ' <to-en en>')} <from-en de>"

    [result] = run([make_doc(OTHER)], ["de"], registry, {**made, "direct": None, "to-en": None})
    # no model for the first hop (the catch-all is no hop: it serves nb→de itself), so the catch-all
    assert result.translations["de"][0].model == "x/big"


def test_the_file_order_decides_a_catch_all_before_the_pivot(tmp_path):
    routes = "  - {from: nb, to: de, use: [big]}\n" + PIVOT_ROUTES
    made = engines()
    [result] = run([make_doc(OTHER)], ["de"], load_registry(registry_file(tmp_path, routes)), made)
    assert result.translations["de"][0].model == "x/big"
    assert made["to-en"].calls == [] and made["from-en"].calls == []


def test_the_first_hop_runs_once_for_every_target_and_document(tmp_path):
    registry = load_registry(registry_file(tmp_path, PIVOT_ROUTES))
    made = engines()
    docs = [make_doc(SENTENCE, OTHER, name="a.txt"), make_doc(OTHER, name="b.txt")]
    results = run(docs, ["de", "fr", "es"], registry, made)
    assert len(made["to-en"].calls) == 1  # one nb→en job for three targets and two documents
    assert sorted(made["to-en"].segments) == sorted({SENTENCE, OTHER})
    assert {c.tgt for c in made["from-en"].calls} == {"de", "fr", "es"}
    for result in results:
        for tgt in ("de", "fr", "es"):
            assert all(b.engine == "pivot" and b.flags == () for b in result.translations[tgt])


def test_protected_spans_survive_both_hops_and_are_checked_against_the_source(tmp_path):
    def drops_numbers(text, src, tgt, decoding):  # the first hop loses the number and the URL
        return " ".join(w for w in reverse_words(text).split() if not any(c.isdigit() for c in w) and "://" not in w)

    registry = load_registry(registry_file(tmp_path, PIVOT_ROUTES))
    made = engines(**{"to-en": drops_numbers})
    [result] = run([make_doc(SENTENCE)], ["de"], registry, made)
    block = result.translations["de"][0]
    assert "1.000" in block.text and "https://example.org/a" in block.text
    assert block.flags == ()


def test_repair_retries_the_pivot_through_both_hops(tmp_path):
    def loops_unless_safe(text, src, tgt, decoding):
        return "the war " * 12 if decoding is None else reverse_words(text)

    registry = load_registry(registry_file(tmp_path, PIVOT_ROUTES))
    made = engines(**{"from-en": loops_unless_safe})
    [result] = run([make_doc(OTHER)], ["de"], registry, made)
    block = result.translations["de"][0]
    assert block.attempt == "safer_decoding" and block.flags == ()
    assert made["to-en"].calls[-1].decoding is not None and made["from-en"].calls[-1].decoding is not None


def test_the_aligned_record_names_both_hops_with_the_intermediate_text(tmp_path):
    registry = load_registry(registry_file(tmp_path, PIVOT_ROUTES))
    [result] = run([make_doc(OTHER)], ["de"], registry, engines())
    record = result.records()[0]["translations"]["de"]
    assert record["engine"] == "pivot"
    first, second = record["hops"]
    assert (first["engine"], first["model"], first["text"]) == ("nllb", "x/to-en", f"{reverse_words(OTHER)} <to-en en>")
    assert (second["engine"], second["model"], second["text"]) == ("nllb", "x/from-en", record["text"])
