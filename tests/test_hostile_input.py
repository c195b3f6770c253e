"""Hostile input through the CLI (issue 13, part A): deep markup, separators inside a block,
non-text codecs, over-long option values, hostile models.yaml and layouts, a memory that
cannot be written or whose disk fails.

Each case gives the right exit code with one clear line, and loses nothing: what cannot be
translated whole is refused (exit 2), never published with text left out.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Scripted, fake_models, reverse_words  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()
NORWEGIAN = "Nord-Korea har sendt mange containere med ammunisjon til Russland, sier USA.\n"


def invoke(tmp_path: Path, models: str | Path, name: str, data: bytes, *args: str, memory: bool = False):
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(source), "--out", str(out), "--models", str(models),
                                 *([] if memory else NO_MEMORY), *args])
    return result, out


def one_error_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and "internal error" not in lines[0]
    return lines[0]


def nested_list(depth: int) -> str:
    return "".join("  " * i + f"- Punkt nummer {i} er her.\n" for i in range(depth))


def deep_yaml(depth: int) -> str:
    return "models: " + "[" * depth + "]" * depth + "\n"


DUPLICATE_YAML = ("models:\n  m: {engine: nllb, model: x/m}\n  m: {engine: nllb, model: x/other}\n"
                  "routes:\n  - {from: '*', to: '*', use: m}\n")

# (id, file name, bytes, arguments, models.yaml text (None: the fake models'), part of the message)
REFUSED = [
    ("1,000-level nested list", "deep.md", nested_list(1000).encode(), ["--to", "en", "--from", "nb"], None,
     "deep.md:50: the Markdown is nested too deeply for the parser"),
    ("50,000 quote levels", "quote.md", (">" * 50_000 + " Dypt sitat her.\n\nEtter sitatet.\n").encode(),
     ["--to", "en", "--from", "nb"], None, "quote.md:1: the Markdown is nested too deeply"),
    ("--encoding rot13", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--encoding", "rot13"], None,
     "'rot13' is not a text encoding; --encoding names the character set"),
    ("--encoding base64", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--encoding", "base64"], None,
     "'base64' is not a text encoding"),
    ("--encoding hex", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--encoding", "hex"], None,
     "'hex' is not a text encoding"),
    ("lone surrogate from utf-7", "s.txt", b"Hei +2D8- der.\n", ["--to", "en", "--encoding", "utf-7"], None,
     "s.txt is not valid utf-7 text: it decodes to a lone surrogate (U+D83F"),
    ("models.yaml 100,000 deep", "a.txt", NORWEGIAN.encode(), ["--to", "en"], deep_yaml(100_000),
     "models.yaml:1: nested more than 50 levels deep"),
    ("models.yaml duplicate key", "a.txt", NORWEGIAN.encode(), ["--to", "en"], DUPLICATE_YAML,
     "models.yaml:3: key 'm' appears twice in one mapping (lines 2 and 3)"),
    ("--layout attribute", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--layout", "{name.__class__}"], None,
     "bad --layout '{name.__class__}': {name.__class__} is not one of its fields; use only {lang}, {name}"),
    ("--layout index", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--layout", "{lang}/{name[0]}"], None,
     "{name[0]} is not one of its fields"),
    ("--layout conversion", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--layout", "{lang}/{name!r}"], None,
     "{name!r} is not one of its fields"),
    ("--layout positional", "a.txt", NORWEGIAN.encode(), ["--to", "en", "--layout", "{lang}/{0}"], None,
     "{0} is not one of its fields"),
]


@pytest.mark.parametrize("case, name, data, args, registry, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_input_is_one_line_exit_2_and_writes_nothing(tmp_path, fake_models, case, name, data, args, registry,
                                                             message):
    models: str | Path = fake_models({"m": lambda s, o: Scripted(s, o)})
    if registry is not None:
        models = tmp_path / "models.yaml"
        models.write_text(registry, encoding="utf-8")
    result, out = invoke(tmp_path, models, name, data, *args)
    assert message in one_error_line(result)
    assert not out.exists()


def test_a_100000_character_option_value_is_not_echoed_in_full(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, _ = invoke(tmp_path, models, "a.txt", NORWEGIAN.encode(), "--to", "x" * 100_000)
    line = one_error_line(result)
    assert "… (100,000 characters)" in line and len(line) < 300
    result, _ = invoke(tmp_path, models, "a.txt", NORWEGIAN.encode(), "--to", "en", "--encoding", "q" * 100_000)
    assert len(one_error_line(result)) < 300


def test_markdown_nested_up_to_the_limit_is_translated_whole(tmp_path, fake_models):
    """40 nested list levels and 99 nested quotes are read whole: every item reaches the engine."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    source = nested_list(40) + "\n" + ">" * 99 + " Dypt sitat her.\n"
    result, out = invoke(tmp_path, models, "deep.md", source.encode(), "--to", "en", "--from", "nb")
    assert result.exit_code == 0, result.output
    text = (out / "en" / "deep.md").read_text(encoding="utf-8")
    for i in range(40):
        assert f"- {reverse_words(f'Punkt nummer {i} er her.')}\n" in text
    assert text.endswith(">" * 99 + " " + reverse_words("Dypt sitat her.") + "\n")


def test_noscript_and_svg_foreign_object_text_is_translated(tmp_path, fake_models):
    """Issue 13: both were skipped without a word; a browser shows their text, so it is translated."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    page = ("<p>Her er kartet.</p><noscript><p>Skru på skript for å se kartet.</p></noscript>"
            "<svg><foreignObject><div>Tekst inne i tegningen.</div></foreignObject><text>x1</text></svg>\n")
    result, out = invoke(tmp_path, models, "a.html", page.encode(), "--to", "en", "--from", "nb")
    assert result.exit_code == 0, result.output
    text = (out / "en" / "a.html").read_text(encoding="utf-8")
    for sentence in ("Skru på skript for å se kartet.", "Tekst inne i tegningen."):
        assert reverse_words(sentence) in text and sentence not in text
    assert "<text>x1</text>" in text  # SVG's own text stays protected whole, as documented


@pytest.mark.parametrize("separator", ["\x0c", "\x85", "\u2028", "\u2029"])
def test_separators_inside_a_block_come_out_byte_for_byte(tmp_path, fake_models, separator):
    """Issue 13: NEL and U+2029 came out as U+2028, a form feed was dropped ("S1.\\x0cS2." became
    "S1.S2."): the engine got them inside a sentence.  This fake engine, like Apertium, writes
    all whitespace as single spaces; the separators must still come out as they were."""
    engines: list[Scripted] = []

    def make(spec, options):
        engines.append(Scripted(spec, options, script=lambda text, src, tgt, d: " ".join(reverse_words(text).split())))
        return engines[-1]

    models = fake_models({"m": make})
    source = f"Første setning er her.{separator}Andre setning er her.\n"
    result, out = invoke(tmp_path, models, "a.txt", source.encode(), "--to", "en", "--from", "nb")
    assert result.exit_code == 0, result.output
    expected = f"{reverse_words('Første setning er her.')}{separator}{reverse_words('Andre setning er her.')}\n"
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == expected
    assert not any(separator in s for s in engines[0].segments)


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory file opens but cannot be written, as a file or folder without write permission
    gives (tests may run as root, for whom chmod does not stop writing): SQLite's read-only mode."""
    connect = sqlite3.connect

    def read_only(path, *args, **kwargs):
        if kwargs.pop("uri", False):
            return connect(path, *args, uri=True, **kwargs)
        return connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr("multitrans.memory.store.sqlite3.connect", read_only)


def test_a_read_only_memory_is_one_clear_line_before_any_work(tmp_path, fake_models, monkeypatch):
    engines: list[Scripted] = []
    models = fake_models({"m": lambda s, o: engines.append(Scripted(s, o)) or engines[-1]})
    result, out = invoke(tmp_path, models, "a.txt", NORWEGIAN.encode(), "--to", "en", "--from", "nb", memory=True)
    assert result.exit_code == 0, result.output
    _read_only(monkeypatch)
    result, _ = invoke(tmp_path, models, "b.txt", b"Det var en gang en konge i Norge.\n", "--to", "en",
                       "--from", "nb", memory=True)
    line = one_error_line(result)
    assert f"the translation memory {out / '.multitrans' / 'memory.sqlite'} cannot be written" in line
    assert "--no-memory" in line
    assert len(engines) == 1  # refused before any engine loaded for the second run
    assert not (out / "en" / "b.txt").exists()


@pytest.mark.parametrize("message", ["disk I/O error", "database or disk is full"])
def test_a_disk_failing_while_the_memory_opens_is_a_failure_exit_3(tmp_path, fake_models, monkeypatch, message):
    """The disk is not the user's mistake: exit 3 with the reason, not exit 2."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})

    def failing(*args, **kwargs):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr("multitrans.memory.store.sqlite3.connect", failing)
    result, out = invoke(tmp_path, models, "a.txt", NORWEGIAN.encode(), "--to", "en", "--from", "nb", memory=True)
    line = one_error_line(result, code=3)
    assert f"cannot open translation memory {out / '.multitrans' / 'memory.sqlite'}: {message}" in line
    assert not (out / "en" / "a.txt").exists()
