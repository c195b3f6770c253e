"""`multitrans detect`: an answer for every language and every file, and exit codes that say
whether every file was decided."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samples import ARTICLE
from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()

LATIN = ("Gallia est omnis divisa in partes tres, quarum unam incolunt Belgae, aliam Aquitani, "
         "tertiam qui ipsorum lingua Celtae, nostra Galli appellantur.\n")
BOKMAL = "Jeg vet ikke hva de mener om det, men jeg skal spørre dem i morgen.\n"
FIELDS = {"file", "language", "confidence", "translatable", "other_blocks", "note", "error"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "latin": tmp_path / "latin.txt",
        "nb": tmp_path / "nb.txt",
        "date": tmp_path / "date.txt",
        "binary": tmp_path / "image.txt",
    }
    paths["latin"].write_text(LATIN, encoding="utf-8")
    paths["nb"].write_text(BOKMAL, encoding="utf-8")
    paths["date"].write_text("16/10/2023\n", encoding="utf-8")
    paths["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    return paths


def detect_json(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["detect", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_untranslatable_language_is_reported_not_refused(files: dict[str, Path]) -> None:
    code, [latin, nb] = detect_json(str(files["latin"]), str(files["nb"]))
    assert code == 0
    assert latin["language"] == "la" and latin["translatable"] is False
    assert latin["confidence"] >= 0.5 and latin["error"] is None
    assert "Latin" in str(latin["note"]) and "no route" in str(latin["note"])
    assert nb["language"] == "nb" and nb["translatable"] is True and nb["note"] is None


def test_untranslatable_language_in_plain_output(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["detect", str(files["latin"])])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{files['latin']}: la (confidence 1.00) — Latin: no route translates from it"


def test_undecidable_file_among_good_ones(files: dict[str, Path]) -> None:
    code, reports = detect_json(str(files["nb"]), str(files["date"]), str(files["latin"]))
    assert code == 1
    assert [r["file"] for r in reports] == [str(files[k]) for k in ("nb", "date", "latin")]
    assert [r["language"] for r in reports] == ["nb", None, "la"]
    undecided = reports[1]
    assert "too little text" in str(undecided["error"])
    assert "--from" not in str(undecided["error"])  # detect has no such option
    assert undecided["confidence"] is None and undecided["translatable"] is None


@pytest.mark.parametrize("kind", ["missing", "binary"])
def test_unreadable_file_gets_its_own_record(files: dict[str, Path], tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "missing.txt" if kind == "missing" else files["binary"]
    result = runner.invoke(app, ["detect", str(bad), str(files["nb"])])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{bad}: error: ")
    assert lines[1].startswith(f"{files['nb']}: nb ")


def test_json_records_carry_every_field(files: dict[str, Path]) -> None:
    code, reports = detect_json(ARTICLE.as_posix(), str(files["date"]))
    assert code == 1
    assert all(set(r) == FIELDS for r in reports)
    article, date = reports
    assert article["language"] == "nb" and article["translatable"] is True and article["error"] is None
    assert [(b["id"], b["language"]) for b in article["other_blocks"]] == [(0, "en"), (13, "en")]
    assert all(set(b) == {"id", "language", "confidence", "text"} for b in article["other_blocks"])
    assert date["language"] is None and date["other_blocks"] == [] and date["error"]


def test_exit_codes(files: dict[str, Path]) -> None:
    assert runner.invoke(app, ["detect", str(files["nb"]), str(files["latin"])]).exit_code == 0
    assert runner.invoke(app, ["detect", str(files["nb"]), str(files["date"])]).exit_code == 1
    assert runner.invoke(app, ["detect"]).exit_code == 2  # no file: bad usage
    assert runner.invoke(app, ["detect", str(files["nb"]), "--format", "pdf"]).exit_code == 2


def test_translate_still_refuses_an_untranslatable_source(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["translate", str(files["latin"]), "--to", "nn", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == ("error: The document seems to be in Latin, which multitrans cannot translate from; "
                    "pass --from LANG if that is wrong.")
    assert not (tmp_path / "out").exists()
