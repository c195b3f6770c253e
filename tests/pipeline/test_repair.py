"""The repair path: flagged segments retried with safer decoding, then the next route; what remains is visible."""

import json

from fakes import Scripted, ScriptedDetector, Untunable, make_doc, pool_of, registry_of, reverse_words

from multitrans.api import translate_documents
from multitrans.engines.base import EngineOptions
from multitrans.config.glossary import Glossary
from multitrans.pipeline.repair import SAFER_DECODING, is_all_caps, sentence_case, upper_outside

SENTENCE = "Nord-Korea har sendt mange containere med ammunisjon til Russland i høst."


def run(docs, targets, registry, pool, detector=None, **kwargs):
    return translate_documents(docs, targets, registry=registry, pool=pool,
                               detector=detector or ScriptedDetector(), **kwargs)


def looping(text, src, tgt, decoding):
    """Loops unless decoded safely, as opus-mt does on some inputs."""
    if decoding is None:
        return "the war " * 12
    return reverse_words(text)


def test_a_loop_is_retried_with_safer_decoding_and_the_record_says_so():
    engine = Scripted(spec_for("m"), EngineOptions(), script=looping)
    [result] = run([make_doc(SENTENCE)], ["en"], registry_of("m"), pool_of({"m": engine}))
    block = result.translations["en"][0]
    assert block.text == reverse_words(SENTENCE)
    assert block.attempt == "safer_decoding" and block.flags == ()
    assert engine.calls[-1].decoding == SAFER_DECODING
    [record] = result.records()
    assert record["translations"]["en"]["attempt"] == "safer_decoding"
    assert record["translations"]["en"]["flags"] == []


def test_what_safer_decoding_cannot_fix_goes_to_the_next_route():
    broken = Scripted(spec_for("big"), EngineOptions(), script=lambda t, s, g, d: "the war " * 12)
    backup = Scripted(spec_for("small"), EngineOptions())
    [result] = run([make_doc(SENTENCE)], ["en"], registry_of("big", "small"), pool_of({"big": broken, "small": backup}))
    block = result.translations["en"][0]
    assert block.text == reverse_words(SENTENCE)
    assert block.attempt == "fallback_route:x/small" and block.flags == ()
    assert block.model == "x/big"  # the block's route; the attempt names the model that wrote it


def test_a_flag_nothing_can_clear_stays_visible_on_the_first_attempt():
    broken = Scripted(spec_for("m"), EngineOptions(), script=lambda t, s, g, d: "the war " * 12)
    [result] = run([make_doc(SENTENCE)], ["en"], registry_of("m"), pool_of({"m": broken}))
    block = result.translations["en"][0]
    assert block.attempt == "first"
    assert [f.code for f in block.flags] == ["repetition"]
    row = json.loads(json.dumps(result.records()))[0]["translations"]["en"]
    assert row["flags"][0]["code"] == "repetition" and "repeated 12 times" in row["flags"][0]["detail"]
    assert not result.problems  # a flag is not a failure: the exit code changes only with --strict


def test_a_copy_and_a_wrong_language_output_are_flagged_and_repaired_by_the_next_route():
    copier = Scripted(spec_for("copier"), EngineOptions(), script=lambda t, s, g, d: t)
    german = Scripted(spec_for("german"), EngineOptions(), script=lambda t, s, g, d: "Das ist nicht wahr, sagte der Sprecher heute.")
    good = Scripted(spec_for("good"), EngineOptions())
    detector = ScriptedDetector(langs={"nicht": "de"})
    for first in (copier, german):
        [result] = run([make_doc(SENTENCE)], ["en"], registry_of(first.spec.name, "good"),
                       pool_of({first.spec.name: first, "good": good}), detector)
        block = result.translations["en"][0]
        assert block.attempt == "fallback_route:x/good" and block.flags == (), block
    [result] = run([make_doc(SENTENCE)], ["en"], registry_of("german"), pool_of({"german": german}), detector)
    assert [f.code for f in result.translations["en"][0].flags] == ["wrong_language"]
    assert "reads as German (de" in result.translations["en"][0].flags[0].detail


def test_all_caps_is_sent_in_sentence_case_and_comes_back_in_capitals():
    def caps_loop(text, src, tgt, decoding):
        return "NORTH " * 10 if text.isupper() else reverse_words(text)

    engine = Scripted(spec_for("m"), EngineOptions(), script=caps_loop)
    headline = "NORD-KOREA SENDER 1.000 CONTAINERE MED AMMUNISJON TIL RUSSLAND"
    [result] = run([make_doc(headline)], ["en"], registry_of("m"), pool_of({"m": engine}))
    block = result.translations["en"][0]
    assert block.flags == () and block.attempt == "safer_decoding"
    assert block.text == upper_outside(reverse_words(sentence_case(headline)))
    assert "1.000" in block.text
    assert engine.calls[-1].segments == ("Nord-korea sender 1.000 containere med ammunisjon til russland",)


def test_an_engine_without_tunable_decoding_is_retried_in_shorter_pieces_never_with_an_unknown_argument():
    def drops_long(text, src, tgt, decoding):
        return reverse_words(text) if len(text.split()) <= 6 else "kort"

    engine = Untunable(spec_for("m"), EngineOptions(), script=drops_long)
    [result] = run([make_doc(SENTENCE)], ["en"], registry_of("m"), pool_of({"m": engine}))
    block = result.translations["en"][0]
    assert block.attempt == "safer_decoding" and block.flags == ()
    assert all(len(s.split()) <= 6 for s in engine.calls[-1])
    assert block.text.split() == reverse_words(SENTENCE).split()


def test_a_character_outside_the_vocabulary_loses_nothing_after_it():
    vocabulary = "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ-.,:;!?0123456789 "
    engine = Scripted(spec_for("m"), EngineOptions(), vocabulary=vocabulary)
    text = "Han sa ʘ og gikk videre til byen for å handle mat i går."
    [result] = run([make_doc(text)], ["en"], registry_of("m"), pool_of({"m": engine}))
    block = result.translations["en"][0]
    assert block.text == reverse_words(text) == "naH as ʘ go kkig erediv lit neyb rof å eldnah tam i råg."
    assert block.flags == () and block.attempt == "first"  # translated around it, as the runner does with spans
    assert ("Han sa", "og gikk videre til byen for å handle mat i går.") in [c.segments for c in engine.calls]


def test_emoji_are_protected_spans_and_put_back():
    vocabulary = "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ-.,:;!?0123456789 "
    engine = Scripted(spec_for("m"), EngineOptions(), vocabulary=vocabulary)
    text = "Vi feiret 🎉 med kake og brus hele kvelden 👍🏽 i går."
    [result] = run([make_doc(text)], ["en"], registry_of("m"), pool_of({"m": engine}))
    block = result.translations["en"][0]
    assert block.text == reverse_words(text) == "iV terief 🎉 dem ekak go surb eleh nedlevk 👍🏽 i råg."
    assert block.attempt == "first"  # the runner's span repair already put them back


def test_one_failing_sentence_costs_only_itself_and_is_reported():
    engine = Scripted(spec_for("m"), EngineOptions(), raise_on="BOOM")
    doc = make_doc("Første avsnitt er helt vanlig.", "Her smeller det BOOM midt i.", "Tredje avsnitt er også vanlig.")
    [result] = run([doc], ["en", "de"], registry_of("m"), pool_of({"m": engine}))
    for lang in ("en", "de"):
        blocks = result.translations[lang]
        assert blocks[0].text == reverse_words("Første avsnitt er helt vanlig.") and blocks[0].flags == ()
        assert blocks[2].text == reverse_words("Tredje avsnitt er også vanlig.")
        assert blocks[1].text == "Her smeller det BOOM midt i."
        assert [f.code for f in blocks[1].flags] == ["not_translated"]
    assert any("engine crashed on 'BOOM'" in p and "retried: 1 of 3 sentence(s) kept untranslated" in p
               for p in result.problems), result.problems


def test_a_dead_engine_is_given_up_on_quickly_and_the_next_route_takes_over():
    dead = Scripted(spec_for("dead"), EngineOptions(), raise_on="")  # every call raises
    backup = Scripted(spec_for("backup"), EngineOptions())
    doc = make_doc(*[f"Setning nummer {i} handler om noe helt annet." for i in range(40)])
    [result] = run([doc], ["en"], registry_of("dead", "backup"), pool_of({"dead": dead, "backup": backup}))
    assert len(dead.calls) <= 2 + 7  # the runner's (the job, then the pair), then a bounded search
    assert all(b.attempt.startswith("fallback_route:x/backup") and not b.flags for b in result.translations["en"])
    assert any("retried: all 40 sentence(s) were translated, 40 by the next route (x/backup)" in p
               for p in result.problems), result.problems


def test_a_model_that_fails_a_whole_pair_skips_safer_decoding():
    broken = Scripted(spec_for("big"), EngineOptions(), script=lambda t, s, g, d: "the war " * 12)
    backup = Scripted(spec_for("small"), EngineOptions())
    doc = make_doc(*[f"Setning nummer {i} handler om noe helt annet enn de andre." for i in range(10)])
    [result] = run([doc], ["en"], registry_of("big", "small"), pool_of({"big": broken, "small": backup}))
    assert all(call.decoding is None for call in broken.calls)
    assert {b.attempt for b in result.translations["en"]} == {"fallback_route:x/small"}


def test_kept_names_are_protected_and_fixed_terms_enforced():
    def renames(text, src, tgt, decoding):
        return reverse_words(text).replace("Kim Jong Un", "Kim Jong-un").replace("sFN dårshetrekkis", "Security Council")

    engine = Scripted(spec_for("m"), EngineOptions(), script=renames)
    glossary = Glossary(keep=("Kim Jong Un", "EM24 EuropMedia"),
                        terms={"FNs sikkerhetsråd": {"en": "UN Security Council"}})
    doc = make_doc("Kim Jong Un møtte FNs sikkerhetsråd i New York i går kveld.", "EM24 EuropMedia")
    [result] = run([doc], ["en", "de"], registry_of("m"), pool_of({"m": engine}), glossary=glossary)
    en = result.translations["en"]
    assert "Kim Jong Un" in en[0].text and "UN Security Council" in en[0].text
    assert en[0].flags == () and en[0].attempt == "first"  # enforced by translating around them
    assert en[1].text == "EM24 EuropMedia"
    assert "EM24 EuropMedia" not in engine.segments  # a name alone never reaches a model
    de = result.translations["de"]  # no fixed term for German: left to the model
    assert "UN Security Council" not in de[0].text and "Kim Jong Un" in de[0].text


def test_the_registry_glossary_is_used_when_none_is_given():
    engine = Scripted(spec_for("m"), EngineOptions(), script=lambda t, s, g, d: reverse_words(t).replace("Kim", "Kin"))
    registry = registry_of("m")
    registry = type(registry)(registry.path, registry.models, registry.routes, Glossary(keep=("Kim Jong Un",)))
    [result] = run([make_doc("Kim Jong Un reiste med tog til Russland.")], ["en"], registry, pool_of({"m": engine}))
    assert "Kim Jong Un" in result.translations["en"][0].text


def test_caps_helpers_keep_spans():
    assert is_all_caps("NORD-KOREA SENDER AMMUNISJON") and not is_all_caps("Nord-Korea sender ammunisjon")
    assert not is_all_caps("EM24 NRK")  # too few letters to call it shouting
    assert sentence_case("SE HTTPS://A.NO/X NÅ", ["HTTPS://A.NO/X"]) == "Se HTTPS://A.NO/X nå"
    assert upper_outside("see https://a.no/x now", ["https://a.no/x"]) == "SEE https://a.no/x NOW"


def spec_for(name):
    from fakes import spec

    return spec(name)


class _JobCounter(Scripted):
    """Records which language pairs each `translate_multi` job holds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.jobs: list[tuple[set[str], object]] = []

    def translate_multi(self, rows, on_progress=None, decoding=None):
        self.jobs.append(({tgt for _, _, tgt in rows}, decoding))
        return super().translate_multi(rows, on_progress, decoding)


def test_the_retries_of_all_targets_go_to_the_engine_as_one_job():
    """A document into several languages: the safer-decoding retries of every language share
    one job (so an NLLB engine batches them together), as the first attempt did."""
    targets = ["en", "de", "fr", "es"]
    engine = _JobCounter(spec_for("m"), EngineOptions(), script=looping)
    [result] = run([make_doc(SENTENCE, "Russland har bedt om mer ammunisjon fra Nord-Korea i år.")], targets,
                   registry_of("m"), pool_of({"m": engine}))
    assert [(sorted(langs), decoding) for langs, decoding in engine.jobs] == [
        (sorted(targets), None), (sorted(targets), SAFER_DECODING)]
    for lang in targets:
        assert [block.attempt for block in result.translations[lang]] == ["safer_decoding", "safer_decoding"]


def test_one_target_whose_retry_fails_does_not_cost_the_others_theirs():
    def looping_but_german_crashes(text, src, tgt, decoding):
        if decoding is not None and tgt == "de":
            raise RuntimeError("CUDA error: device-side assert triggered")
        return looping(text, src, tgt, decoding)

    engine = Scripted(spec_for("m"), EngineOptions(), script=looping_but_german_crashes)
    [result] = run([make_doc(SENTENCE)], ["en", "de"], registry_of("m"), pool_of({"m": engine}))
    assert result.translations["en"][0].attempt == "safer_decoding"
    assert result.translations["de"][0].attempt == "first"
    assert [f.code for f in result.translations["de"][0].flags] == ["repetition"]
    assert any("failed retrying 1 flagged sentence(s) nb→de" in p for p in result.problems)
