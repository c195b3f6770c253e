"""Outputs never land in the project's own state, never overwrite each other, never leave
--out through a linked state folder, and keep the file modes a web server needs (issue 13,
groups 1, 2, 4 and 5).  Every refusal happens before anything is written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Scripted, fake_models  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.archive.job import BatchError, check_batch, default_memory_path
from multitrans.cli import app
from multitrans.output import OutputCollision, OutputError, output_path, plan_outputs, write_atomic, write_atomic_all

runner = CliRunner()
NORWEGIAN = "Nord-Korea har sendt mange containere med ammunisjon til Russland.\n"


def _article(path: Path, text: str = NORWEGIAN) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _translate(fake_models, *args: str):
    models = fake_models({"m": Scripted})
    return runner.invoke(app, ["translate", *args, "--models", models, "--from", "nb"])


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- group 1: the state folder is not an output ------------------------------------------------------


@pytest.mark.parametrize("layout", [".multitrans/memory.sqlite", ".multitrans/{name}", "x/../.multitrans/{lang}"])
def test_no_output_lands_in_the_state_folder(tmp_path, layout):
    with pytest.raises(OutputError, match=r"inside \.multitrans/"):
        output_path(tmp_path, layout, "a.txt", "nn")


def test_translate_refuses_a_layout_into_the_state_folder_and_the_memory_survives(tmp_path, fake_models):
    article, out = _article(tmp_path / "a.txt"), tmp_path / "O"
    first = _translate(fake_models, str(article), "--to", "nn", "--out", str(out))
    assert first.exit_code == 0, first.output
    memory = out / ".multitrans" / "memory.sqlite"
    before = memory.read_bytes()
    result = _translate(fake_models, str(article), "--to", "nn,da", "--out", str(out),
                        "--layout", ".multitrans/memory.sqlite")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert "inside .multitrans/" in result.output
    assert memory.read_bytes() == before
    again = _translate(fake_models, str(article), "--to", "nn", "--out", str(out))
    assert again.exit_code == 0, again.output


def test_import_with_a_target_language_naming_the_state_folder_is_refused(tmp_path, fake_models):
    article, out = _article(tmp_path / "a.txt"), tmp_path / "O"
    models = fake_models({"m": Scripted})
    exported = runner.invoke(app, ["export", str(article), "--to", "nn", "--out", str(tmp_path / "x"),
                                   "--models", models, "--from", "nb"])
    assert exported.exit_code == 0, exported.output
    [xlf] = (tmp_path / "x").glob("*.xlf")
    text = xlf.read_text(encoding="utf-8").replace('trgLang="nn"', 'trgLang=".multitrans"')
    text = text.replace('<mda:meta type="name">a.txt</mda:meta>', '<mda:meta type="name">memory.sqlite</mda:meta>')
    xlf.write_text(text, encoding="utf-8")
    (out / ".multitrans").mkdir(parents=True)
    (out / ".multitrans" / "memory.sqlite").write_bytes(b"SQLite format 3\x00")
    result = runner.invoke(app, ["import", str(xlf), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "trgLang '.multitrans' is not a language code" in result.output
    assert (out / ".multitrans" / "memory.sqlite").read_bytes() == b"SQLite format 3\x00"


# --- group 2: collisions found before the first write ------------------------------------------------


@pytest.mark.parametrize("layout, targets, expected", [
    ("{name}", ["nn", "da"], "a.txt (nn) and a.txt (da) to a.txt; use --layout '{lang}/{name}'"),
    ("aligned/{name}.jsonl", ["nn"], "a.txt (nn) and a.txt (aligned JSONL) to aligned/a.txt.jsonl; "
                                     "use --layout '{lang}/aligned/{name}.jsonl'"),
])
def test_a_layout_that_sends_two_outputs_to_one_file_is_refused(tmp_path, layout, targets, expected):
    with pytest.raises(OutputCollision) as caught:
        plan_outputs(tmp_path, layout, [("a.txt", "a.txt")], targets)
    assert str(caught.value) == f"--layout '{layout}' writes both {expected}"


def test_two_targets_into_one_file_exit_2_and_nothing_written(tmp_path, fake_models):
    article, out = _article(tmp_path / "a.txt"), tmp_path / "O"
    result = _translate(fake_models, str(article), "--to", "nn,da", "--out", str(out), "--layout", "{name}",
                        *NO_MEMORY)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: --layout '{{name}}' writes both {article} (nn) and {article} (da) to a.txt; "
        "use --layout '{lang}/{name}'")
    assert _files(out) == []


def test_two_inputs_with_one_name_are_refused_naming_both(tmp_path, fake_models):
    first, second = _article(tmp_path / "d1" / "a.txt"), _article(tmp_path / "d2" / "a.txt", "En annen tekst her.\n")
    out = tmp_path / "O"
    result = _translate(fake_models, str(first), str(second), "--to", "nn", "--out", str(out))
    assert result.exit_code == 2
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert f"writes both {first} and {second} to nn/a.txt" in line
    assert "separate runs with different --out" in line
    assert _files(out) == []


def test_a_stem_layout_collision_names_a_layout_that_separates_them(tmp_path):
    with pytest.raises(OutputCollision, match=r"use --layout '\{lang\}/\{name\}'"):
        plan_outputs(tmp_path, "{lang}/{stem}.html", [("a.txt", "a.txt"), ("a.md", "a.md")], ["nn"])


def test_batch_collisions_name_both_sources_and_a_separating_layout(tmp_path):
    archive = tmp_path / "archive"
    _article(archive / "x" / "a.txt")
    _article(archive / "y" / "a.txt")
    with pytest.raises(BatchError, match=r"writes both x/a.txt and y/a.txt to nn/a.txt; use --layout '\{lang\}/\{path\}'"):
        check_batch(archive, ["nn"], tmp_path / "out", layout="{lang}/{name}")
    with pytest.raises(BatchError, match=r"writes both x/a.txt \(nn\) and x/a.txt \(da\)"):
        check_batch(archive, ["nn", "da"], tmp_path / "out", layout="{path}")


# --- group 4: a linked state folder -------------------------------------------------------------------


def test_a_state_folder_linked_out_of_out_is_refused(tmp_path, fake_models):
    elsewhere, out = tmp_path / "elsewhere", tmp_path / "O"
    elsewhere.mkdir()
    out.mkdir()
    (out / ".multitrans").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="is a link to"):
        default_memory_path(out)
    article = _article(tmp_path / "a.txt")
    result = _translate(fake_models, str(article), "--to", "nn", "--out", str(out))
    assert result.exit_code == 2
    assert "must stay inside the output directory" in result.output
    assert list(elsewhere.iterdir()) == [] and not (out / "nn").exists()
    archive = tmp_path / "archive"
    _article(archive / "a.txt")
    with pytest.raises(OutputError, match="is a link to"):
        check_batch(archive, ["nn"], out)


# --- group 5: file modes -------------------------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_get_the_umask_mode_and_existing_files_keep_theirs(tmp_path, umask_022):
    single, grouped = tmp_path / "a.txt", tmp_path / "b.txt"
    write_atomic(single, "x")
    write_atomic_all([(grouped, "y")])
    assert _mode(single) == 0o644 and _mode(grouped) == 0o644
    single.chmod(0o640)
    grouped.chmod(0o664)
    write_atomic(single, "x2")
    write_atomic_all([(grouped, "y2")])
    assert _mode(single) == 0o640 and _mode(grouped) == 0o664
    os.umask(0o077)
    write_atomic(tmp_path / "c.txt", "z")
    assert _mode(tmp_path / "c.txt") == 0o600


def test_translate_publishes_readable_pages_and_a_rerun_keeps_the_mode(tmp_path, fake_models, umask_022):
    article, out = _article(tmp_path / "a.txt"), tmp_path / "O"
    assert _translate(fake_models, str(article), "--to", "nn", "--out", str(out), *NO_MEMORY).exit_code == 0
    page = out / "nn" / "a.txt"
    assert _mode(page) == 0o644 and _mode(out / "aligned" / "a.txt.jsonl") == 0o644
    page.chmod(0o664)
    assert _translate(fake_models, str(article), "--to", "nn", "--out", str(out), *NO_MEMORY).exit_code == 0
    assert _mode(page) == 0o664


# --- group 12: exit 2 means nothing written ------------------------------------------------------------


def test_a_bad_second_name_is_found_before_the_first_document_is_written(tmp_path, fake_models):
    first, second = _article(tmp_path / "a.txt"), _article(tmp_path / "b\x7f.txt")
    out = tmp_path / "O"
    result = _translate(fake_models, str(first), str(second), "--to", "nn", "--out", str(out))
    assert result.exit_code == 2
    assert "control character" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()  # no translation of a.txt, and no translation memory either


def test_a_report_path_that_is_a_directory_is_refused_before_translating(tmp_path, fake_models):
    article, out = _article(tmp_path / "a.txt"), tmp_path / "O"
    (tmp_path / "reports").mkdir()
    result = _translate(fake_models, str(article), "--to", "nn", "--out", str(out), "--report", str(tmp_path / "reports"))
    assert result.exit_code == 2
    assert "is a directory" in result.output and not out.exists()
