"""Exit 2 means nothing was written: every input, output path and the --report path is checked
before the first translation is (issue 13, item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import Scripted, fake_models  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()
NORWEGIAN = "Nord-Korea har sendt mange containere med ammunisjon til Russland.\n"


def _translate(fake_models, tmp_path: Path, *args: str):
    (tmp_path / "a.txt").write_text(NORWEGIAN, encoding="utf-8")
    (tmp_path / "b.txt").write_text(NORWEGIAN, encoding="utf-8")
    models = fake_models({"m": Scripted})
    return runner.invoke(app, ["translate", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--to", "nn",
                               "--out", str(tmp_path / "O"), "--models", models, "--from", "nb", *args])


@pytest.mark.parametrize("report", ["a.txt/report.json", "a.txt/deeper/report.json"])
def test_a_report_path_under_a_file_is_refused_before_any_translation_is_written(tmp_path, fake_models, report):
    result = _translate(fake_models, tmp_path, "--report", str(tmp_path / report))
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith("error: --report") and "is not a directory" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "O").exists()


@pytest.mark.parametrize("layout", ["{bogus}", "../{name}", "{name.__class__}", "{lang}"])
def test_a_layout_error_leaves_no_memory_and_no_file(tmp_path, fake_models, layout):
    result = _translate(fake_models, tmp_path, "--layout", layout)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "O").exists()  # not even O/.multitrans/memory.sqlite


def test_a_report_in_a_new_folder_is_written(tmp_path, fake_models):
    result = _translate(fake_models, tmp_path, "--report", str(tmp_path / "reports" / "r.json"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "r.json").is_file() and (tmp_path / "O" / "nn" / "b.txt").is_file()
