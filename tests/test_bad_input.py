"""Bad and hard input through the CLI: every case of issue 5 with its message and exit code.

Input that cannot be an article is refused before any model loads: one `error:` line,
exit code 2, no traceback, no output directory.  Input that is merely hard (huge
paragraphs, emoji, scripts, mixed languages, capitals...) is translated, with nothing
lost and the structure kept.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Scripted, fake_models, reverse_words  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app
from multitrans.formats.text import read

runner = CliRunner()
NORWEGIAN = "Nord-Korea har sendt mange containere med ammunisjon til Russland, sier USA.\n"
CP1252 = "Det hvite hus’ talsmann for nasjonal sikkerhet sier at Nord-Korea har levert våpen til Russland.\n"
GOOD_REGISTRY = "models:\n  m: {engine: nllb, model: x/m}\nroutes:\n  - {from: '*', to: '*', use: m}\n"

# (id, file name, bytes, extra arguments, registry text (None: the fake models'), message)
REFUSED = [
    ("empty file", "a.txt", b"", [], None, "a.txt is empty; there is nothing to translate"),
    ("whitespace only", "a.txt", " \n\u00a0\n\t\n".encode(), [], None, "a.txt holds only whitespace; there is nothing to translate"),
    ("binary with NUL bytes", "a.txt", bytes(range(256)) * 4, [], None, "a.txt is a binary file, not text"),
    ("a PNG named .txt", "a.txt", b"\x89PNG\r\n\x1a\n" + bytes(100), [], None, "a.txt is a PNG image, not text"),
    ("a PDF named .txt", "a.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", [], None, "a.txt is a PDF document, not text"),
    ("a .docx renamed", "a.md", b"PK\x03\x04" + bytes(60), [], None, "a.md is a ZIP archive (a .docx, .odt or .epub is one)"),
    ("not UTF-8", "a.txt", CP1252.encode("cp1252"), [], None, "a.txt is not UTF-8 text (byte 13 is b'\\x92'); it looks like"),
    ("BOM-less UTF-16", "a.txt", NORWEGIAN.encode("utf-16-le"), [], None, "a.txt looks like utf-16-le text without a byte-order mark; pass --encoding utf-16-le"),
    ("UTF-16 BOM, broken", "a.txt", codecs.BOM_UTF16_LE + b"\x00\xd8", [], None, "starts with a UTF-16 byte-order mark but is not valid UTF-16"),
    ("over the size limit", "a.txt", NORWEGIAN.encode() * 20, ["--max-size", "1kB"], None, "a.txt is 1.5 kB, over the 1.0 kB input limit; split it, or raise the limit with --max-size"),
    ("unreadable size", "a.txt", NORWEGIAN.encode(), ["--max-size", "lots"], None, "cannot read size 'lots'"),
    ("unknown encoding", "a.txt", NORWEGIAN.encode(), ["--encoding", "klingon"], None, "unknown encoding 'klingon' for --encoding"),
    ("wrong --encoding", "a.txt", NORWEGIAN.encode("utf-16"), ["--encoding", "ascii"], None, "a.txt is not valid ascii text (byte 0"),
    ("unknown target", "a.txt", NORWEGIAN.encode(), ["--to", "xx"], None, "Unknown language 'xx': did you mean xh (Xhosa)?"),
    ("unsupported target", "a.txt", NORWEGIAN.encode(), ["--to", "la"], None, "Unknown language 'la': did you mean lua (Luba-Kasai), lo (Lao)?"),
    ("models.yaml bad key", "a.txt", NORWEGIAN.encode(), [], "models:\n  m:\n    engine: nllb\n    modle: x/m\nroutes: []\n",
     "models.yaml:4: key 'models.m.modle': unknown key"),
    ("models.yaml missing model", "a.txt", NORWEGIAN.encode(), [], "models:\n  m: {engine: nllb, model: x/m}\nroutes:\n  - {from: nb, to: en, use: [ghost]}\n",
     "models.yaml:4: key 'routes.use': no model named 'ghost' in 'models'"),
    ("models.yaml syntax error", "a.txt", NORWEGIAN.encode(), [], "models:\n  m: {engine: nllb, model: x/m\nroutes: []\n",
     "models.yaml:3: YAML syntax error"),
    ("models.yaml broken glossary", "a.txt", NORWEGIAN.encode(), [], GOOD_REGISTRY + "glossary:\n  keep: NRK\n",
     "models.yaml:6: key 'glossary.keep': expected a list"),
    ("hostile --layout", "a.txt", NORWEGIAN.encode(), ["--layout", "../../{name}"], None, "outside the output directory"),
]


@pytest.mark.parametrize("case, name, data, args, registry, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, fake_models, case, name, data, args, registry, message):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    if registry is not None:
        models = tmp_path / "models.yaml"
        models.write_text(registry, encoding="utf-8")
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "out"
    arguments = ["translate", str(source), "--to", "en", "--out", str(out), "--models", str(models), *NO_MEMORY, *args]
    if "--to" in args:
        arguments[3:5] = []
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_big_standard_input_is_refused_without_reading_it_all(fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result = runner.invoke(app, ["translate", "-", "--to", "en", "--models", models, "--max-size", "100"],
                           input=NORWEGIAN * 10)
    assert result.exit_code == 2
    assert result.output.strip() == "error: standard input is over the 100 bytes input limit; split it, or raise the limit with --max-size (e.g. --max-size 50MB)"


def translate(tmp_path: Path, models: str, name: str, data: bytes, *args: str, to: str = "en") -> tuple[object, Path]:
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(source), "--to", to, "--out", str(out), "--models", models,
                                 *NO_MEMORY, "--from", "nb", *args])
    return result, out


def records(out: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (out / "aligned" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    "bom, codec",
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
     (codecs.BOM_UTF32_LE, "utf-32-le")],
)
def test_text_with_a_byte_order_mark_is_read_and_written_as_utf8_without_it(tmp_path, fake_models, bom, codec):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, "a.txt", bom + NORWEGIAN.encode(codec))
    assert result.exit_code == 0, result.output
    assert (out / "en" / "a.txt").read_bytes() == (reverse_words(NORWEGIAN.strip()) + "\n").encode("utf-8")


def test_a_named_encoding_is_read(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, "a.txt", CP1252.encode("cp1252"), "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == reverse_words(CP1252.strip()) + "\n"


def test_a_20000_character_paragraph_without_punctuation_is_cut_to_the_limit_and_loses_nothing(tmp_path, fake_models):
    words = "ammunisjon containere russland sanksjoner havn tog skip granater".split()
    paragraph = " ".join(words[i % len(words)] + str(i % 7 if i % 11 == 0 else "") for i in range(2400))[:20_000].strip()
    engines: list[Scripted] = []
    models = fake_models({"m": lambda s, o: engines.append(Scripted(s, o, limit=60)) or engines[-1]})
    result, out = translate(tmp_path, models, "long.txt", f"Overskrift her\n\n{paragraph}\n".encode())
    assert result.exit_code == 0, result.output
    text = (out / "en" / "long.txt").read_text(encoding="utf-8")
    assert text == f"{reverse_words('Overskrift her')}\n\n{reverse_words(paragraph)}\n"
    assert max(len(s.split()) for s in engines[0].segments) <= 60


def test_emoji_right_to_left_cjk_and_combining_characters_come_through(tmp_path, fake_models):
    source = ("Nyheter 🎉 fra Oslo 👨‍👩‍👧 i dag og i går.\n\n"
              "قال المتحدث إن الشحنات وصلت إلى روسيا.\n\n"
              "朝鲜向俄罗斯运送了一千多个集装箱。\n\n"
              "Cafe\u0301 og smo\u0308rbrød med ø og e\u0301 i hele byen.\n")
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, "a.txt", source.encode())
    assert result.exit_code == 0, result.output
    text = (out / "en" / "a.txt").read_text(encoding="utf-8")
    assert len(read(text, "a.txt").blocks) == 4
    assert "🎉" in text and "👨‍👩‍👧" in text
    assert text == "\n\n".join(reverse_words(b) for b in source.strip().split("\n\n")) + "\n"


def test_a_document_mixing_three_languages_routes_each_block_from_its_own(tmp_path, fake_models):
    source = ("Nord-Korea har sendt mange containere med ammunisjon til Russland, sier det hvite hus.\n\n"
              "All articles can be read in more than one hundred languages on our website.\n\n"
              "Die Lieferungen sollen über einen Hafen bei Wladiwostok abgewickelt worden sein.\n")
    engines: list[Scripted] = []
    models = fake_models({"m": lambda s, o: engines.append(Scripted(s, o)) or engines[-1]})
    source_file = tmp_path / "mixed.txt"
    source_file.write_text(source, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source_file), "--to", "fr", "--out", str(tmp_path / "out"),
                                 "--models", models, *NO_MEMORY])
    assert result.exit_code == 0, result.output
    rows = records(tmp_path / "out", "mixed.txt")
    assert [r["source"]["lang"] for r in rows] == ["nb", "en", "de"]
    assert sorted({(c.src, c.tgt) for c in engines[0].calls}) == [("de", "fr"), ("en", "fr"), ("nb", "fr")]


def test_a_paragraph_already_in_the_target_language_is_copied_and_noted(tmp_path, fake_models):
    source = ("Nord-Korea har sendt mange containere med ammunisjon til Russland, sier det hvite hus.\n\n"
              "All articles can be read in more than one hundred languages on our website.\n")
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, "a.txt", source.encode())
    assert result.exit_code == 0, result.output
    english = records(out, "a.txt")[1]["translations"]["en"]
    assert english["engine"] == "copy" and english["note"] == "already in the target language; copied"
    assert english["text"] == "All articles can be read in more than one hundred languages on our website."


def test_all_caps_that_drives_a_model_into_a_loop_is_repaired(tmp_path, fake_models):
    def caps_loop(text, src, tgt, decoding):
        return "ALL ALL ALL ALL ALL ALL ALL ALL" if text.isupper() else reverse_words(text)

    models = fake_models({"m": lambda s, o: Scripted(s, o, script=caps_loop)})
    result, out = translate(tmp_path, models, "a.txt", b"ALL ARTICLES CAN BE READ IN MORE THAN 100 LANGUAGES\n", to="de")
    assert result.exit_code == 0, result.output
    # sent as "All articles can be read…", the reversed words come back in capitals
    assert (out / "de" / "a.txt").read_text(encoding="utf-8") == "LLA SELCITRA NAC EB DAER NI EROM NAHT 100 SEGAUGNAL\n"
    assert records(out, "a.txt")[0]["translations"]["de"]["attempt"] == "safer_decoding"


@pytest.mark.parametrize("character", ["🦜", "ʘ", "\ue000"])
def test_a_character_outside_the_vocabulary_mid_sentence_loses_no_text_after_it(tmp_path, fake_models, character):
    vocabulary = "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ-.,:;!?0123456789 "
    models = fake_models({"m": lambda s, o: Scripted(s, o, vocabulary=vocabulary)})
    sentence = f"Papegøyen {character} fløy over hele byen og landet til slutt på taket."
    result, out = translate(tmp_path, models, "a.txt", (sentence + "\n").encode())
    assert result.exit_code == 0, result.output
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == reverse_words(sentence) + "\n"


def test_source_equal_to_target_is_copied_byte_for_byte_and_noted(tmp_path, fake_models, article):
    """The article's Norwegian blocks are copied; its English header and footer are still translated."""
    engines: list[Scripted] = []
    models = fake_models({"m": lambda s, o: engines.append(Scripted(s, o)) or engines[-1]})
    result, out = translate(tmp_path, models, article.name, article.read_bytes(), to="nb")
    assert result.exit_code == 0, result.output
    rows = records(out, article.name)
    copied = [r for r in rows if r["source"]["lang"] == "nb"]
    assert len(copied) == 12
    assert {r["translations"]["nb"]["engine"] for r in copied} == {"copy"}
    assert {r["translations"]["nb"]["note"] for r in copied} == {"already in the target language; copied"}
    assert all(r["translations"]["nb"]["text"] == r["source"]["text"] for r in copied)
    assert {(c.src, c.tgt) for c in engines[0].calls} == {("en", "nb")}
    nb = (out / "nb" / article.name).read_text(encoding="utf-8")
    source = article.read_text(encoding="utf-8")
    assert nb.splitlines()[2:-2] == source.splitlines()[2:-2]


def test_a_one_megabyte_token_is_kept_as_it_is_and_never_reaches_a_model(tmp_path, fake_models):
    """One 1 MB run without a space (a pasted blob): before, the run took minutes and the
    rule-based engine got the whole token; now it is a protected piece, copied byte for byte."""
    engines: list[Scripted] = []
    models = fake_models({"m": lambda s, o: engines.append(Scripted(s, o)) or engines[-1]})
    blob = "Q" * 1_000_000
    source = f"Nord-Korea har sendt mange containere. {blob} Det var en gang en konge.\n"
    result, out = translate(tmp_path, models, "blob.txt", source.encode(), "--max-size", "2MB")
    assert result.exit_code == 0, result.output
    text = (out / "en" / "blob.txt").read_text(encoding="utf-8")
    assert f" {blob} " in text and text.count("Q") == len(blob)
    assert max(len(s) for s in engines[0].segments) < 100


@pytest.mark.parametrize("limit", ["30GB", "1" + "0" * 29])
def test_a_huge_max_size_costs_nothing_up_front(tmp_path, fake_models, limit):
    """The reader once allocated the whole limit (MemoryError) or overflowed; now it reads in chunks."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, "a.txt", NORWEGIAN.encode(), "--max-size", limit)
    assert result.exit_code == 0, result.output
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == reverse_words(NORWEGIAN.strip()) + "\n"
    piped = runner.invoke(app, ["translate", "-", "--to", "en", "--models", models, "--from", "nb", "--max-size", limit],
                          input=NORWEGIAN)
    assert piped.exit_code == 0, piped.output
