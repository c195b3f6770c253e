"""Text a reader sees that multitrans leaves in the source language on purpose (issue 13, group 3:
"whatever is not translated is counted and warned about"): each document's count is one `note:`
line of `translate` and `batch`, and part of the report, and never changes the exit status."""

from __future__ import annotations

import json
from pathlib import Path

from fakes import NO_MEMORY, Scripted, fake_models, reverse_words  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()

KEPT = ['<select name="fylke"><option>Troms</option><option value="n">Nordland</option></select>',
        "<textarea>Skriv her.</textarea>",
        '<video src="v.mp4">Nettleseren din kan ikke spille av video.</video>',
        '<script>var tekst = "Hei der";</script>']
PAGE = "<p>Velg et fylke fra listen.</p>" + "".join(KEPT) + "<p>Takk for svaret.</p>\n"
NOTE = ("note: page.html: 4 passages left in the source language by design: 2 in <select>, 1 in <textarea>, "
        "1 in <video> (multitrans does not translate form controls or media fallback)")


def notes(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("note:")]


def translate(tmp_path: Path, models: str, page: str, *args: str):
    source = tmp_path / "page.html"
    source.write_text(page, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(source), "--to", "en", "--from", "nb", "--out", str(out),
                                 "--models", models, *NO_MEMORY, *args])
    return result, out


def test_translate_notes_what_it_left_keeps_it_byte_for_byte_and_exits_0(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, out = translate(tmp_path, models, PAGE, "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    assert notes(result.output) == [NOTE]
    assert "warning:" not in result.output
    text = (out / "en" / "page.html").read_text(encoding="utf-8")
    assert reverse_words("Velg et fylke fra listen.") in text and reverse_words("Takk for svaret.") in text
    assert "".join(KEPT) in text
    [document] = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["documents"]
    assert document["notes"] == [NOTE.removeprefix("note: ")] and document["problems"] == []


def test_a_page_without_such_text_has_no_note(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    result, _ = translate(tmp_path, models, "<p>Velg et fylke.</p><script>var a = 1;</script><pre>kode</pre>\n",
                          "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    assert notes(result.output) == []
    [document] = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["documents"]
    assert document["notes"] == []


def test_a_note_never_hides_a_problem_nor_turns_into_one(tmp_path, fake_models):
    """With a block no model serves, the run still exits 1 for that, and the note is still said."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)}, "  - {from: '*', to: de, use: [m]}")
    result, _ = translate(tmp_path, models, PAGE)
    assert result.exit_code == 1, result.output
    assert notes(result.output) == [NOTE] and "warning: " in result.output


def test_batch_prints_each_documents_note_and_keeps_it_in_the_json_summary(tmp_path, fake_models):
    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    (archive / "page.html").write_text(PAGE, encoding="utf-8")
    (archive / "plain.html").write_text("<p>Bare tekst her.</p>\n", encoding="utf-8")
    models = fake_models({"m": Scripted})
    common = ["batch", str(archive), "--to", "en", "--out", str(out), "--models", models, "--from", "nb",
              "--glob", "*.html", "--workers", "1", "--no-memory"]
    result = runner.invoke(app, common)
    assert result.exit_code == 0, result.output
    assert notes(result.output) == [NOTE]
    assert "".join(KEPT) in (out / "en" / "page.html").read_text(encoding="utf-8")
    (archive / "page.html").write_text(PAGE.replace("Takk", "Tusen takk"), encoding="utf-8")
    again = runner.invoke(app, [*common, "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["notes"] == [NOTE.removeprefix("note: ")]


def test_export_and_review_say_the_note_too(tmp_path, fake_models):
    """The commands that translate for translators and reviewers say what stayed in the source, as translate does."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    source = tmp_path / "page.html"
    source.write_text(PAGE, encoding="utf-8")
    exported = runner.invoke(app, ["export", str(source), "--to", "en", "--from", "nb", "--out", str(tmp_path / "x"),
                                   "--models", models, "--no-memory"])
    reviewed = runner.invoke(app, ["review", str(source), "--to", "en", "--from", "nb", "--out",
                                   str(tmp_path / "review.html"), "--models", models])
    for result in (exported, reviewed):
        assert result.exit_code == 0, result.output
        assert notes(result.output) == [NOTE]
