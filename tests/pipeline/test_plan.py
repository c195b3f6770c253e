"""Planning and running with a recording engine: routing, deduplication, copying, span repair, limits."""

from collections.abc import Sequence

import pytest
from fakes import Detected, DocumentDetected, Recording, make_doc

from multitrans.api import translate_documents
from multitrans.config.registry import Registry, Route
from multitrans.engines.base import EngineOptions, ModelSpec, ModelUnavailable
from multitrans.engines.pool import EnginePool


class Shouting(Recording):
    """Upper-cases text without a target tag; optionally fails on a target or mangles digits."""

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: object = None) -> list[str]:
        self.calls.append((tuple(segments), src, tgt))
        if self.spec.options.get("fail_on") == tgt:
            raise RuntimeError("CUDA exploded")
        out = [f"{s.upper()}" for s in segments]
        if self.spec.options.get("mangle_digits"):
            out = [o.replace("1", "one") for o in out]
        return out


class FixedDetector:
    """Document is Norwegian; blocks written in capitals are 'English'."""

    def detect_document(self, texts):
        return DocumentDetected("nb", 0.99, [Detected("en" if t.isupper() else None, 0.9) for t in texts])

    def detect(self, text, *, target=None):
        return Detected(None, 0.0)

    def detect_many(self, texts, *, target=None):
        return [Detected(None, 0.0) for _ in texts]


def setup(routes, models, unavailable=(), **spec_options):
    specs = {m: ModelSpec(m, "nllb", model=f"x/{m}", max_input_tokens=spec_options.pop("limit", None),
                          options=dict(spec_options)) for m in models}
    registry = Registry("test.yaml", specs, tuple(Route(frozenset(a), frozenset(b), tuple(u)) for a, b, u in routes))
    loaded: dict[str, Shouting] = {}

    def loader(spec, options):
        if spec.name in unavailable:
            raise ModelUnavailable(f"{spec.model} is not on this machine")
        loaded[spec.name] = Shouting(spec, options)
        return loaded[spec.name]

    return registry, EnginePool(EngineOptions(), loader), loaded


def run(docs, targets, registry, pool):
    return translate_documents(docs, targets, registry=registry, pool=pool, detector=FixedDetector())


def test_each_model_loads_once_and_identical_sentences_translate_once():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["m"])], ["m"])
    docs = [make_doc("Hei på deg. Hei på deg.", "Hei på deg."), make_doc("Hei på deg.", name="b.txt")]
    results = run(docs, ["de", "fr"], registry, pool)
    assert list(loaded) == ["m"]
    sent = [s for segments, _, _ in loaded["m"].calls for s in segments]
    assert sorted(sent) == ["Hei på deg.", "Hei på deg."]  # once per pair (de, fr), not once per occurrence
    assert results[0].text("de") == "HEI PÅ DEG. HEI PÅ DEG.\n\nHEI PÅ DEG.\n"


def test_blocks_in_another_language_use_their_own_route_and_target_language_blocks_are_copied():
    registry, pool, loaded = setup([({"nb"}, {"*"}, ["nb-model"]), ({"en"}, {"*"}, ["en-model"])], ["nb-model", "en-model"])
    [result] = run([make_doc("ENGLISH HEADER", "Norsk tekst her.")], ["en", "nn"], registry, pool)
    en = result.translations["en"]
    assert en[0].engine == "copy" and en[0].text == "ENGLISH HEADER"
    assert en[1].model == "x/nb-model"
    nn = result.translations["nn"]
    assert nn[0].model == "x/en-model" and nn[1].model == "x/nb-model"
    assert result.block_langs == ("en", "nb")
    assert not result.problems


def test_unavailable_model_falls_back_to_the_next_route_then_reports():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["big", "small"])], ["big", "small"], unavailable={"big"})
    [result] = run([make_doc("Tekst.")], ["de"], registry, pool)
    assert result.translations["de"][0].model == "x/small"
    registry, pool, loaded = setup([({"*"}, {"*"}, ["big"])], ["big"], unavailable={"big"})
    [result] = run([make_doc("Tekst.", "Mer tekst.")], ["de"], registry, pool)
    assert [b.text for b in result.translations["de"]] == ["Tekst.", "Mer tekst."]
    assert result.translations["de"][0].engine is None
    assert len(result.problems) == 1 and "x/big is not on this machine" in result.problems[0]


def test_mangled_numbers_are_repaired_by_translating_around_them():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["m"])], ["m"], mangle_digits=True)
    [result] = run([make_doc("Det kom 1.000 containere 16/10/2023 fra https://a.no/1 i fjor.")], ["de"], registry, pool)
    text = result.translations["de"][0].text
    assert "1.000" in text and "16/10/2023" in text and "https://a.no/1" in text
    assert text.startswith("DET KOM 1.000 CONTAINERE 16/10/2023 FRA https://a.no/1 I FJOR.")


def test_sentences_over_the_input_limit_are_cut_and_joined_without_loss():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["m"])], ["m"], limit=8)
    sentence = ", ".join(f"ledd {i} med noen flere ord" for i in range(10)) + "."
    [result] = run([make_doc(sentence)], ["de"], registry, pool)
    assert result.translations["de"][0].text == sentence.upper()
    assert all(len(s.split()) <= 8 for segments, _, _ in loaded["m"].calls for s in segments)


def test_nothing_to_translate_never_reaches_a_model():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["m"])], ["m"])
    [result] = run([make_doc("16/10/2023", "https://www.em24.uk/", "–", "Ord.")], ["de"], registry, pool)
    assert [s for c in loaded["m"].calls for s in c[0]] == ["Ord."]
    assert [b.text for b in result.translations["de"]] == ["16/10/2023", "https://www.em24.uk/", "–", "ORD."]


def test_an_engine_failure_keeps_the_text_and_is_reported_while_other_pairs_finish():
    registry, pool, loaded = setup([({"*"}, {"*"}, ["m"])], ["m"], fail_on="de")
    [result] = run([make_doc("Tekst.")], ["de", "fr"], registry, pool)
    assert result.translations["de"][0].text == "Tekst."
    assert "kept untranslated" in result.translations["de"][0].note
    assert result.translations["fr"][0].text == "TEKST."
    assert any("CUDA exploded" in p for p in result.problems)


def test_no_targets_is_an_error():
    registry, pool, _ = setup([({"*"}, {"*"}, ["m"])], ["m"])
    with pytest.raises(ValueError, match="--to"):
        run([make_doc("x")], [], registry, pool)


def test_an_options_error_stops_the_run_instead_of_falling_back():
    from multitrans.engines.base import OptionsError

    specs = {"m": ModelSpec("m", "nllb", model="x/m")}
    registry = Registry("t.yaml", specs, (Route(frozenset({"*"}), frozenset({"*"}), ("m",)),))

    def loader(spec, options):
        raise OptionsError("--device cuda was asked for, but PyTorch sees no CUDA GPU.")

    with pytest.raises(OptionsError, match="no CUDA GPU"):
        run([make_doc("Tekst.")], ["de"], registry, EnginePool(EngineOptions(device="cuda"), loader))
