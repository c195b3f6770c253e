"""The glossary file and models.yaml's `glossary:` section: reading, errors, matching."""

import pytest

from multitrans.config.glossary import Glossary, GlossaryError, load_glossary
from multitrans.config.registry import RegistryError, load_registry


def write(tmp_path, text, name="glossary.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_glossary_file_is_read_with_language_codes_normalized(tmp_path):
    path = write(tmp_path, "keep: [EM24 EuropMedia, Kim Jong Un]\nterms:\n  FNs sikkerhetsråd: {en: UN Security Council, no: FNs sikkerhetsråd, deu_Latn: UN-Sicherheitsrat}\n")
    glossary = load_glossary(path)
    assert glossary.keep == ("EM24 EuropMedia", "Kim Jong Un")
    assert glossary.terms == {"FNs sikkerhetsråd": {"en": "UN Security Council", "nb": "FNs sikkerhetsråd", "de": "UN-Sicherheitsrat"}}


@pytest.mark.parametrize(
    "text, message",
    [
        ("keep: EM24\n", r"glossary\.yaml:1: key 'keep': expected a list"),
        ("keep: [a]\nterm:\n  x: {en: y}\n", r"glossary\.yaml:2: key 'term': unknown key"),
        ("terms:\n  FNs: {xx: UN}\n", r"glossary\.yaml:2: key 'terms\.FNs': Unknown language 'xx'"),
        ("terms:\n  FNs: UN\n", r"glossary\.yaml:2: key 'terms\.FNs': expected a mapping"),
        ("keep: [a, b\n", r"glossary\.yaml:\d+: YAML syntax error"),
        ("keep: [Kim]\nterms:\n  Kim: {en: Kim}\n", "'Kim' is both kept and translated"),
        ("- just a list\n", r"glossary\.yaml:1: key '\(top level\)': expected a mapping"),
    ],
)
def test_a_broken_glossary_names_file_line_and_key(tmp_path, text, message):
    with pytest.raises(GlossaryError, match=message):
        load_glossary(write(tmp_path, text))


def test_python_tags_in_a_glossary_execute_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, f"keep: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(GlossaryError, match=r"glossary\.yaml:1: key 'keep': the tag tag:yaml\.org,2002:python/object/apply"):
        load_glossary(path)
    assert not marker.exists()


def test_the_models_yaml_section_is_real_and_errors_name_its_keys(tmp_path):
    registry = write(tmp_path, "models:\n  a: {engine: apertium}\nroutes:\n  - {from: nb, to: nn, use: a}\n"
                               "glossary:\n  keep: [NRK]\n  terms:\n    Stortinget: {en: the Storting}\n", "models.yaml")
    loaded = load_registry(registry)
    assert loaded.glossary == Glossary(("NRK",), {"Stortinget": {"en": "the Storting"}})
    broken = write(tmp_path, "models:\n  a: {engine: apertium}\nroutes: []\nglossary:\n  keep: [NRK]\n  terms:\n    X: {qq: y}\n", "models.yaml")
    with pytest.raises(RegistryError, match=r"models\.yaml:7: key 'glossary\.terms\.X': Unknown language 'qq'"):
        load_registry(broken)
    assert load_registry(write(tmp_path, "models:\n  a: {engine: apertium}\nroutes: []\n", "models.yaml")).glossary == Glossary()


def test_merge_adds_and_the_later_glossary_wins():
    base = Glossary(("NRK",), {"Stortinget": {"en": "Parliament", "de": "das Storting"}})
    mine = Glossary(("EM24",), {"Stortinget": {"en": "the Storting"}})
    merged = base.merge(mine)
    assert merged.keep == ("NRK", "EM24")
    assert merged.terms == {"Stortinget": {"en": "the Storting", "de": "das Storting"}}
    assert not Glossary() and merged


def test_matching_is_exact_on_word_boundaries_longest_first():
    glossary = Glossary(("Kim", "Kim Jong Un", "EM24"), {"FN": {"en": "UN"}, "金正恩": {"en": "Kim Jong Un"}})
    text = "Kim Jong Un og Kimberly leste EM24-saken om FN og FNs råd."
    assert [text[a:b] for a, b in glossary.keep_spans(text)] == ["Kim Jong Un", "EM24"]
    assert glossary.fixed_terms(text, "en") == [("FN", "UN")]  # not inside "FNs"
    assert glossary.fixed_terms(text, "de") == []
    assert glossary.fixed_terms("朝鲜领导人金正恩说", "en") == [("金正恩", "Kim Jong Un")]  # no spaces around CJK names
