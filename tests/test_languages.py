"""The language table: complete against NLLB-200, and forgiving about how users spell codes."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from multitrans import languages
from multitrans.languages import (
    UnknownLanguage,
    all_codes,
    apertium_code,
    apertium_mode,
    are_close,
    count_unspaced,
    density,
    flores_code,
    is_rtl,
    iso3,
    name,
    no_word_boundary,
    normalize,
    parse_list,
)


def nllb_codes_from_transformers() -> list[str] | None:
    """NLLB's own list, read as text so the test does not import transformers (slow)."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / "models" / "nllb" / "tokenization_nllb.py"
    if not source.exists():
        return None
    match = re.search(r"FAIRSEQ_LANGUAGE_CODES = (\[.*?\])", source.read_text(), re.S)
    return None if match is None else ast.literal_eval(match.group(1))


# --- the table -------------------------------------------------------------------------


def test_table_has_every_nllb_language_once() -> None:
    codes = all_codes()
    assert len(codes) == 202
    assert codes == sorted(codes)
    floreses = [flores_code(c) for c in codes]
    assert len(set(floreses)) == 202
    assert all(re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", f) for f in floreses)
    assert len({name(c) for c in codes}) == 202


def test_table_matches_nllb_tokenizer() -> None:
    expected = nllb_codes_from_transformers()
    if expected is None:
        pytest.skip("transformers' NLLB tokenizer source not installed")
    assert sorted(expected) == sorted(flores_code(c) for c in all_codes())


def test_our_codes_are_iso_639_1_or_3_with_script_only_where_needed() -> None:
    for code in all_codes():
        base, _, script = code.partition("-")
        assert re.fullmatch(r"[a-z]{2,3}", base), code
        if script:
            assert script == flores_code(code).split("_")[1], code
        if len(base) == 3:
            assert base == iso3(code), code


def test_every_spelling_of_a_row_leads_back_to_it() -> None:
    for code in all_codes():
        assert normalize(code) == code
        assert normalize(code.upper()) == code
        assert normalize(flores_code(code)) == code
        assert normalize(flores_code(code).lower()) == code
        assert normalize(name(code)) == code


@pytest.mark.parametrize(
    ("code", "flores", "three", "english"),
    [
        ("nb", "nob_Latn", "nob", "Norwegian Bokmål"),
        ("nn", "nno_Latn", "nno", "Norwegian Nynorsk"),
        ("en", "eng_Latn", "eng", "English"),
        ("zh", "zho_Hans", "zho", "Chinese (Simplified)"),
        ("zh-Hant", "zho_Hant", "zho", "Chinese (Traditional)"),
        ("ar", "arb_Arab", "arb", "Arabic"),
        ("fa", "pes_Arab", "pes", "Persian"),
        ("ceb", "ceb_Latn", "ceb", "Cebuano"),
        ("ks-Deva", "kas_Deva", "kas", "Kashmiri (Devanagari)"),
    ],
)
def test_row_fields(code: str, flores: str, three: str, english: str) -> None:
    assert flores_code(code) == flores
    assert iso3(code) == three
    assert name(code) == english


# --- normalize -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("NO", "nb"),
        ("no", "nb"),
        ("nor", "nb"),
        ("nob", "nb"),
        ("nob_Latn", "nb"),
        ("NOB_LATN", "nb"),
        ("nb-NO", "nb"),
        ("nn", "nn"),
        ("nno_Latn", "nn"),
        ("nn_NO", "nn"),
        ("en-US", "en"),
        ("EN_gb", "en"),
        ("eng", "en"),
        ("pt_BR", "pt"),
        ("pt-PT", "pt"),
        ("zh-Hant", "zh-Hant"),
        ("zh_Hant", "zh-Hant"),
        ("zho_Hant", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-CN", "zh"),
        ("zh", "zh"),
        ("zho_Hans", "zh"),
        ("ara", "ar"),
        ("fas", "fa"),
        ("per", "fa"),
        ("ger", "de"),
        ("iw", "he"),
        ("kas_Deva", "ks-Deva"),
        ("ks-Deva-IN", "ks-Deva"),
        ("kas", "ks"),
        ("sr-Latn", "sr"),
        ("Norwegian", "nb"),
        ("bokmal", "nb"),
        ("Nynorsk", "nn"),
        ("  German ", "de"),
    ],
)
def test_normalize(given: str, expected: str) -> None:
    assert normalize(given) == expected


@pytest.mark.parametrize("bad", ["xx", "", "qqqq", "en-", "-US", "en--US", "en-U$"])
def test_unknown_codes_raise_a_value_error(bad: str) -> None:
    with pytest.raises(UnknownLanguage) as info:
        normalize(bad)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(bad.strip()) in message
    assert "\n" not in message
    assert message.count(". ") == 0  # one sentence


def test_unknown_code_suggests_near_codes() -> None:
    with pytest.raises(UnknownLanguage, match=r"did you mean .*xh \(Xhosa\)"):
        normalize("xx")


@pytest.mark.parametrize("typo", ["nrwegian", "norwegain", "Norweigan", "norwgian"])
def test_misspelt_names_suggest_the_language(typo: str) -> None:
    with pytest.raises(UnknownLanguage) as info:
        normalize(typo)
    message = str(info.value)
    assert "nb (Norwegian Bokmål)" in message
    assert "nn (Norwegian Nynorsk)" in message


@pytest.mark.parametrize(("typo", "suggested"), [("germna", "de"), ("swedsh", "sv"),
                                                 ("portugese", "pt"), ("arab", "ar")])
def test_other_misspellings(typo: str, suggested: str) -> None:
    with pytest.raises(UnknownLanguage, match=rf"\b{suggested} \("):
        normalize(typo)


# --- other lookups ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [("nb", "nob"), ("nn", "nno"), ("da", "dan"), ("sv", "swe"), ("en", "eng"),
     ("es", "spa"), ("ms", "zlm"), ("hr", "hbs"), ("de", None), ("zh", None)],
)
def test_apertium_code(code: str, expected: str | None) -> None:
    assert apertium_code(code) == expected


@pytest.mark.parametrize(
    ("src", "tgt", "expected"),
    [("nb", "nn", "nob-nno"), ("no", "da", "nob-dan"), ("nn", "nb", "nno-nob"),
     ("nb", "sv", "nob-swe"), ("es", "pt", "spa-por"), ("nb", "de", None), ("de", "nb", None)],
)
def test_apertium_mode(src: str, tgt: str, expected: str | None) -> None:
    assert apertium_mode(src, tgt) == expected


@pytest.mark.parametrize(
    ("a", "b", "block", "output"),
    [("nb", "nn", True, True), ("da", "nb", True, True), ("sr", "hr", True, True),
     ("ms", "id", True, True), ("sk", "cs", True, True),
     ("sv", "nb", True, False), ("sv", "da", True, False),
     ("ne", "hi", False, True), ("mr", "ne", False, True),
     ("en", "nb", False, False), ("de", "nl", False, False)],
)
def test_close_languages_by_purpose(a: str, b: str, block: bool, output: bool) -> None:
    assert are_close(a, b, "block") is block and are_close(b, a, "block") is block
    assert are_close(a, b, "output") is output and are_close(b, a, "output") is output


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh", 0.33), ("zh-Hant", 0.33), ("ja", 0.45), ("ko", 0.5), ("ar", 0.85), ("en", 1.0), ("ru", 1.0)],
)
def test_density(code: str, expected: float) -> None:
    assert density(code) == expected


def test_unspaced_scripts() -> None:
    # Han, kana, Thai, Lao, Myanmar and Khmer count character by character; Hangul does not,
    # since Korean separates its words with spaces, nor do Latin and Devanagari.
    unspaced = "東京タワーひらがなสวัสดีສະບາຍດີမင်္ဂလာសួស្តី"
    assert count_unspaced(unspaced) == len(unspaced)
    assert count_unspaced("서울에서 Oslo नमस्ते") == 0
    assert count_unspaced("Oslo 東京") == 2


def test_names_need_a_boundary_only_in_spaced_scripts() -> None:
    assert no_word_boundary("東") and no_word_boundary("タ") and no_word_boundary("ส")
    assert no_word_boundary("서")  # Korean writes particles onto the name
    assert not no_word_boundary("O") and not no_word_boundary("न") and not no_word_boundary("ø")


@pytest.mark.parametrize("code", ["ar", "he", "fa", "ur", "ps", "yi", "ckb", "sd", "ug", "ks",
                                  "arz", "prs"])
def test_right_to_left(code: str) -> None:
    assert is_rtl(code)


@pytest.mark.parametrize("code", ["nb", "en", "zh", "ja", "hi", "ks-Deva", "el", "ru", "tzm"])
def test_left_to_right(code: str) -> None:
    assert not is_rtl(code)


def test_lookups_accept_any_spelling() -> None:
    assert flores_code("NO") == "nob_Latn"
    assert iso3("nob_Latn") == "nob"
    assert name("pt_BR") == "Portuguese"
    assert is_rtl("arb_Arab")
    assert languages.get("zh_Hant").flores == "zho_Hant"


# --- lists from the command line -------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en,de, fr", ["en", "de", "fr"]),
        ("nb,no,NOB, nob_Latn,nn", ["nb", "nn"]),
        ("fr,en,fr", ["fr", "en"]),
        (" en , ,de,", ["en", "de"]),
        ("zh-Hant,zh,zh_TW", ["zh-Hant", "zh"]),
        ("", []),
    ],
)
def test_parse_list(given: str, expected: list[str]) -> None:
    assert parse_list(given) == expected


def test_parse_list_names_the_bad_item() -> None:
    with pytest.raises(UnknownLanguage, match="'xx'"):
        parse_list("en,xx,de")
