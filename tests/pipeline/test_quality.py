"""Quality flags: each check on controlled outputs, their place in records and the report."""

import time
from collections import Counter

import pytest
from fakes import ScriptedDetector

from multitrans.pipeline.quality import (
    FIRST,
    SAFER,
    Checker,
    ToCheck,
    is_copy,
    later,
    length_problem,
    lost_spans,
    missing_terms,
    repetition,
)


@pytest.mark.parametrize(
    "output",
    [
        "the war the war the war the war is over",
        "North Korea North Korea North Korea has sent",
        "ammunition ammunition ammunition ammunition",
        "»»»»»»»»»»»»»»»»»»»»»»»»",
        "lalalalalalalalalalalala",
        "北京的的的的的的的",
    ],
)
def test_loops_are_flagged(output):
    assert repetition("Nord-Korea har sendt ammunisjon.", output) is not None


@pytest.mark.parametrize(
    "source, output",
    [
        ("Han sa: «Nei, nei, nei!»", "He said: “No, no, no!”"),  # the source repeats too
        ("Det var veldig, veldig bra.", "It was very, very good."),  # twice is language, not a loop
        ("Beløpet er 1000000 kroner.", "The amount is 1000000 kroner."),  # digits are not a loop
        ("Skillelinje ----------", "Separator ----------"),  # the source has the same run
        ("Ha det bra.", "Goodbye."),
    ],
)
def test_ordinary_text_is_not_a_loop(source, output):
    assert repetition(source, output) is None


def test_loop_detection_is_linear_on_a_runaway_output():
    output = "og " * 20_000
    start = time.perf_counter()
    assert "repeated 20000 times" in repetition("og så videre", output)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "source, output, src, tgt, flagged",
    [
        ("Nord-Korea har sendt over tusen containere med ammunisjon til Russland, sier USA.",
         "North Korea has sent over a thousand containers of ammunition to Russia, says the US.", "nb", "en", False),
        ("Nord-Korea har sendt over tusen containere med ammunisjon til Russland, sier USA.",
         "North Korea has sent", "nb", "en", True),  # the second half was dropped
        ("Nord-Korea har sendt over tusen containere med ammunisjon til Russland, sier USA.",
         "", "nb", "en", True),
        ("North Korea has sent over a thousand containers of ammunition to Russia, the US says.",
         "美国说，朝鲜已向俄罗斯运送了一千多个弹药集装箱。", "en", "zh", False),  # Han writes densely
        ("North Korea has sent over a thousand containers of ammunition to Russia, the US says.",
         "美国说，朝鲜已向俄罗斯运送了一千多个弹药集装箱。美国说，朝鲜已向俄罗斯运送了一千多个弹药集装箱。"
         "美国说，朝鲜已向俄罗斯运送了一千多个弹药集装箱。", "en", "zh", True),
        ("Hei.", "Hello there, my good friend, how are you doing today?", "nb", "en", False),  # too short to judge
        ("Det kom https://www.em24.uk/a-very-long-address-that-counts-for-nothing/ i går.",
         "It came https://www.em24.uk/a-very-long-address-that-counts-for-nothing/ yesterday.", "nb", "en", False),
    ],
)
def test_length_ratio_is_judged_per_script(source, output, src, tgt, flagged):
    spans = [s for s in source.split() if s.startswith("http")]
    assert (length_problem(source, output, src, tgt, spans) is not None) is flagged


def test_copies_are_flagged_but_names_and_case_changes_are_not():
    assert is_copy("Det kom mange containere i går.", "Det kom mange  containere i går.")
    assert not is_copy("Kim Jong Un", "Kim Jong Un")  # names translate to themselves
    assert not is_copy("John Kirby, USA", "John Kirby, USA")
    assert not is_copy("Det kom mange containere i går.", "DET KOM MANGE CONTAINERE I GÅR.")
    assert not is_copy("Det kom mange containere.", "Many containers came.")


def test_spans_and_terms_are_counted_not_just_found():
    assert lost_spans("1.000 og 1.000", ["1.000", "1.000"]) == []
    assert lost_spans("1.000 og mer", ["1.000", "1.000"]) == ["1.000"]
    assert missing_terms("the UN Security Council met", [("FNs sikkerhetsråd", "UN Security Council")]) == []
    assert missing_terms("the Security Council met", [("FNs sikkerhetsråd", "UN Security Council")]) == [
        ("FNs sikkerhetsråd", "UN Security Council")
    ]


def test_wrong_language_uses_the_detector_and_forgives_close_languages_and_unknown_targets():
    checker = Checker(ScriptedDetector(langs={"ikke": "nb", "ikkje": "nn", "nicht": "de"}))
    assert "the source language" in checker.wrong_language("det er ikke sant", "nb", "en")
    assert "German" in checker.wrong_language("das ist nicht wahr", "nb", "en")
    assert checker.wrong_language("det er ikkje sant", "nb", "nb") is None  # Nynorsk for Bokmål: too close to tell
    assert checker.wrong_language("that is not true", "nb", "en") is None  # detector unsure
    assert checker.wrong_language("das ist nicht wahr", "nb", "ast") is None  # Asturian: the detector cannot judge it


def test_check_collects_every_flag_with_details():
    checker = Checker(ScriptedDetector(langs={"ikke": "nb"}))
    source = "Det er ikke sant at 1.000 containere kom fram til Russland i fjor høst."
    flags = checker.check(source, source, "nb", "en", spans=["1.000"])
    assert [f.code for f in flags] == ["untranslated_copy"]  # a copy is not also "wrong language"
    flags = checker.check(source, "It is ikke ikke ikke ikke", "nb", "en", spans=["1.000"],
                          terms=[("Russland", "Russia")])
    codes = [f.code for f in flags]
    assert codes == ["span_lost", "span_lost", "repetition", "length_ratio", "wrong_language"]
    assert "“1.000” is missing" in flags[0].detail and "“Russia”" in flags[1].detail


def test_attempt_order():
    assert later(FIRST, SAFER) == SAFER
    assert later(SAFER, "fallback_route:x/m") == "fallback_route:x/m"
    assert later("fallback_route:x/m", FIRST) == "fallback_route:x/m"
    assert later(None, FIRST) == FIRST


# --- the report on the command line -------------------------------------------------------------

import json
import shutil

from fakes import NO_MEMORY, Scripted, fake_models  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app
from multitrans.pipeline.quality import FLAG_CODES

runner = CliRunner()
ARTICLE_TEXT = "Nord-Korea har sendt mange containere med ammunisjon til Russland i høst.\n\nKort.\n"


def test_the_cli_prints_flags_writes_the_report_and_strict_makes_them_exit_1(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o, script=lambda t, src, tgt, d: "the war " * 12)})
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    args = ["translate", str(article), "--to", "en", "--from", "nb", "--out", str(tmp_path / "out"),
            "--models", models, *NO_MEMORY, "--report", str(tmp_path / "report.json")]
    relaxed = runner.invoke(app, args)
    assert relaxed.exit_code == 0, relaxed.output
    assert "Quality flags in a.txt" in relaxed.output
    assert "flags: repetition 2" in relaxed.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["flags"] == {"repetition": 2}
    assert report["documents"][0]["targets"]["en"] == {"blocks": 2, "flagged": 2, "repaired": 0,
                                                       "flags": {"repetition": 2}}
    assert [(r["block"], r["lang"], r["code"], r["attempt"]) for r in report["rows"]] == [
        (0, "en", "repetition", "first"), (1, "en", "repetition", "first")]
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1


def test_a_clean_run_prints_no_table_and_strict_passes(tmp_path, fake_models):
    english = {"Nord-Korea har sendt mange containere med ammunisjon til Russland i høst.":
               "North Korea has sent many containers of ammunition to Russia this autumn.", "Kort.": "Short."}
    models = fake_models({"m": lambda s, o: Scripted(s, o, script=lambda t, src, tgt, d: english[t])})
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(article), "--to", "en", "--from", "nb", "--out", str(tmp_path / "out"),
                                 "--models", models, *NO_MEMORY, "--strict"])
    assert result.exit_code == 0, result.output
    assert "Quality flags" not in result.output


@pytest.mark.slow
def test_a_real_run_on_tiny_models_reports_their_failures(tmp_path, article, tiny_registry, monkeypatch):
    """Random tiny models loop, ramble and write no language: the report must say so.  (The first
    paragraphs of the article only: every sentence of a random model is flagged and retried.)"""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    short = tmp_path / article.name
    short.write_text("\n\n".join(article.read_text(encoding="utf-8").split("\n\n")[:4]), encoding="utf-8")
    result = runner.invoke(app, ["translate", str(short), "--to", "en,de", "--models", str(tiny_registry), "--offline",
                                 "--out", str(tmp_path / "out"), *NO_MEMORY, "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(report["flags"]) <= set(FLAG_CODES) and "repetition" in report["flags"]
    assert any(r["attempt"] != "first" for r in report["rows"])  # repair was tried, and what it chose is recorded
    rows = [json.loads(line) for line in (tmp_path / "out" / "aligned" / f"{article.name}.jsonl").read_text().splitlines()]
    assert sum(len(t["flags"]) for r in rows for t in r["translations"].values()) == len(report["rows"])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
def test_apertium_on_the_real_article_raises_no_false_alarm(tmp_path, article, monkeypatch):
    """Bokmål to Nynorsk, Danish and Swedish through Apertium: good output, so no quality flag on any
    Norwegian block (only the English header and footer, which no installed model serves)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(app, ["translate", str(article), "--to", "nn,da,sv", "--offline", "--out", str(tmp_path / "out"),
                                 *NO_MEMORY, "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["flags"] == {"not_translated": 6}
    assert {(r["block"], r["code"]) for r in report["rows"]} == {(0, "not_translated"), (13, "not_translated")}


@pytest.mark.parametrize("source, src, tgt", [
    ("Sims var 20 år gammel.", "nb", "da"),  # NTREX: correct Danish, as Apertium wrote it
    ("Det er helt grusomt.", "nb", "da"),
    ("Det var det som skjedde.", "nb", "nn"),
    ("Først treffer orkanen Rosa land ved den meksikanske halvøya Baja California.", "nb", "nn"),
])
def test_a_short_sentence_written_the_same_in_a_close_language_is_not_a_copy(source, src, tgt):
    checker = Checker(ScriptedDetector())
    assert checker.check(source, source, src, tgt) == ()
    assert [f.code for f in checker.check(source, source, src, "en")] == ["untranslated_copy"]  # not close: a copy


def test_a_long_copy_between_close_languages_is_still_flagged():
    source = ("Regjeringen vil legge fram et nytt forslag om skatt på strøm og vannkraft i hele landet "
              "før sommeren kommer.")
    assert [f.code for f in Checker(ScriptedDetector()).check(source, source, "nb", "da")] == ["untranslated_copy"]


# --- wrong_language on real output, with the real detector (issue 11) ----------------------------

from multitrans.pipeline.detect import LanguageDetector


@pytest.fixture(scope="module")
def real_checker() -> Checker:
    return Checker(LanguageDetector())


CORRECT_OUTPUTS = [
    # NTREX Bokmål lines and Apertium's correct translations, each flagged wrong_language before.
    # Nynorsk and Danish read as Swedish (100 %): their function words and æ/ø say otherwise.
    ("Bough er nå en gift mann, spleiset med en ubåtkommandant, en hysterisk overklassedamerolle hvor Vicki "
     "Pepperdine er litt bortkastet.",
     "Bough er no ein gift mann, spleisa med ein ubåtkommandant, ei hysterisk overklassedamerolle der Vicki "
     "Pepperdine er litt bortkasta.", "nn"),
    ("Kl. 14 sto to politibiler bak sperringen, mens en tredje bil sto like utenfor.",
     "Kl. 14 stod to politibilar bak sperringa, medan ein tredje bil stod like utanfor.", "nn"),
    ("Bubba Watson og Webb Simpson hamlet lett opp med Sergio Garcia, morgenens fourballs-helt, da han var "
     "partner med Alex Noren.",
     "Bubba Watson og Webb Simpson hamlede let op med Sergio Garcia, morgenens fourballs-helt, da han var "
     "partner med Alex Noren.", "da"),
    # Swedish read as the source, Bokmål: Swedish letters and words, or too little to be sure of.
    ("Han refererte til senatets domstolsutvalg og nevnte den demokratiske senatoren Dianne Feinstein ved "
     "navn, hvorpå publikum buet høylydt.",
     "Han refererade till senatens domstolurval och nämnde den demokratiska senatorn Dianne Feinstein vid "
     "namn, hvorpå publik buat höglytt.", "sv"),
    ("Chelsea spiller mot Videoton i Europaligaen i fotball for menn i London kl. 15.00 på torsdag.",
     "Chelsea spelar mot Videoton i Europaligaen i fotboll för man i London kl. 15.00 på torsdag.", "sv"),
    ("Almanakken: Oppfinneren av geigertelleren", "Almanakken: Uppfinnaren av geigertelleren", "sv"),
    ("«Husker dere svaret hennes?", "«Minns ni hennes svar?", "sv"),
    # Names read as another language (Welsh, Tagalog); without them the sentence is the target's.
    ("Anmeldelse av Johnny English Strikes Again – blodfattig Rowan Atkinson i spionparodi",
     "Melding av Johnny English Strikes Again – blodfattig Rowan Atkinson i spionparodi", "nn"),
    ("Siktelsen vil bli gjennomgått av Public Prosecution Service.",
     "Siktinga vil bli gjennomgått av Public Prosecution Service.", "nn"),
    # A French quotation in the Bokmål text stays French.
    ("Il faut bien le faire.", "Il faut bia le faire.", "nn"),
]


@pytest.mark.parametrize("source, output, tgt", CORRECT_OUTPUTS)
def test_correct_apertium_output_is_not_flagged(real_checker, source, output, tgt):
    assert real_checker.check(source, output, "nb", tgt) == ()


WRONG_OUTPUTS = [
    # A model that wrote another Scandinavian language than the Swedish asked for: Apertium's
    # real Nynorsk and Danish of NTREX lines, offered as Swedish.
    ("Han refererte til senatets domstolsutvalg og nevnte den demokratiske senatoren Dianne Feinstein ved "
     "navn, hvorpå publikum buet høylydt.",
     "Han refererte til domstolsutvalet til senatet og nemnde den demokratiske senatoren Dianne Feinstein ved "
     "namn, der publikum bua høglydd.", "sv", "Norwegian Nynorsk (nn"),
    ("Trump påsto at demokratene har som mål å «motstå og hindre».",
     "Trump påstod, at demokraterne har som mål at «modstå og hindre».", "sv", "Danish (da"),
    # ... and Swedish where Nynorsk was asked for, a Bokmål near-copy for Swedish, German for English.
    ("Trump påsto at demokratene har som mål å «motstå og hindre».",
     "Trump påstod att demokraterna har som mål att «motstå och hindra».", "nn", "Swedish (sv"),
    ("Willoughby skal bli merkevareambassadør for M&S og skal erstatte Ant McPartlin som vert for "
     "ITV-programmet I'm A Celebrity.",
     "Willoughby skal bli merkevareambassadør for M&S og skal erstatta Ant McPartlin som vert for "
     "ITV-programmet I'm A Celebrity.", "sv", "the source language (nb"),
    ("Det er ikke sant, sa talsmannen i dag.", "Das ist nicht wahr, sagte der Sprecher heute.", "en", "German (de"),
]


@pytest.mark.parametrize("source, output, tgt, reads_as", WRONG_OUTPUTS)
def test_real_wrong_language_output_is_still_flagged(real_checker, source, output, tgt, reads_as):
    flags = real_checker.check(source, output, "nb", tgt)
    assert [f.code for f in flags] == ["wrong_language"] and reads_as in flags[0].detail


class CountingDetector:
    """The real detector, counting how often it is asked."""

    def __init__(self, real: LanguageDetector) -> None:
        self.real = real
        self.one: list[str] = []
        self.many: list[tuple[str | None, int]] = []

    def detect(self, text, *, target=None):  # type: ignore[no-untyped-def]
        self.one.append(text)
        return self.real.detect(text, target=target)

    def detect_many(self, texts, *, target=None):  # type: ignore[no-untyped-def]
        self.many.append((target, len(texts)))
        return self.real.detect_many(texts, target=target)


def test_outputs_checked_together_are_flagged_as_one_by_one(real_checker):
    """Checking a run's outputs together asks the detector once per target for all of them,
    and flags exactly what checking them one at a time flags."""
    items = [ToCheck(source, output, "nb", tgt) for source, output, tgt in CORRECT_OUTPUTS]
    items += [ToCheck(source, output, "nb", tgt) for source, output, tgt, _ in WRONG_OUTPUTS]
    items.append(ToCheck("Det er ikke sant, sa han.", "Det er ikke sant, sa han.", "nb", "en"))  # a copy
    alone = [real_checker.check(i.source, i.output, i.src, i.tgt) for i in items]
    assert sum(bool(flags) for flags in alone) == len(WRONG_OUTPUTS) + 1
    counting = CountingDetector(real_checker.detector)
    together = Checker(counting).check_many(items)
    assert together == alone
    per_target = Counter(i.tgt for i in items[:-1])  # the copy is not asked about
    assert sorted(counting.many) == sorted((t, n) for t, n in per_target.items() if n > 1)
    # One at a time only: an output alone into its target, and the second looks (names left
    # out, the source) that a few outputs need; never an output that was asked about together.
    assert not {i.output for i in items if per_target[i.tgt] > 1} & set(counting.one)
