"""`batch --check --output-format github` and `--json`: the stale list for CI, on a real stale archive (Apertium)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multitrans.archive.manifest import Stale
from multitrans.cli.annotations import annotations, escape_data, escape_property

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
GITHUB_LINE = re.compile(r"^::warning file=(?P<file>[^,:]*),title=(?P<title>[^,:]*)::(?P<message>.*)$")


def multitrans(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multitrans", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def unescape(text: str) -> str:
    """What the Actions runner does with a value (its inverse of the toolkit's escaping)."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


@given(st.text())
def test_escaped_values_keep_the_command_intact_and_decode_back(text):
    prop, data = escape_property(text), escape_data(text)
    assert not set(prop) & set(":,\r\n") and not set(data) & set("\r\n")
    assert unescape(prop) == text and unescape(data) == text


def test_escaping_of_the_toolkit():
    assert escape_property("a,b:c%d\ne\rf") == "a%2Cb%3Ac%25d%0Ae%0Df"
    assert escape_data("50% done: a,b\n") == "50%25 done: a,b%0A"


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with three articles translated into nn and da by Apertium, all current."""
    if shutil.which("apertium") is None:
        pytest.skip("Apertium is not installed")
    repo = tmp_path_factory.mktemp("repo")
    (repo / "articles" / "2023").mkdir(parents=True)
    (repo / "articles" / "2023" / "konge.txt").write_text(
        "Første sak\n\nDet var en gang en konge. Han bodde i et slott.\n", encoding="utf-8")
    (repo / "articles" / "sjø, og 100% vind.md").write_text("# Andre sak\n\nSlottet lå ved sjøen.\n", encoding="utf-8")
    (repo / "articles" / "vei.txt").write_text("Tredje sak\n\nVeien var lang og smal.\n", encoding="utf-8")
    done = multitrans("batch", "articles", "--to", "nn,da", "--out", "translations", "--from", "nb", "--offline",
                      cwd=repo)
    assert done.returncode == 0, done.stderr
    return repo


@needs_apertium
def test_a_current_archive_gives_no_annotation(translated):
    done = multitrans("batch", "articles", "--to", "nn,da", "--out", "translations", "--from", "nb", "--check",
                      "--output-format", "github", cwd=translated)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "all 9 outputs of 3 documents are current" in done.stderr


@needs_apertium
def test_stale_and_missing_outputs_as_annotations_and_json(translated, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(translated, repo)
    edited = repo / "articles" / "2023" / "konge.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nKongen ble gammel.\n", encoding="utf-8")
    (repo / "translations" / "da" / "vei.txt").unlink()
    args = ("batch", "articles", "--to", "nn,da", "--out", "translations", "--from", "nb", "--check")

    github = multitrans(*args, "--output-format", "github", cwd=repo)
    assert github.returncode == 1, github.stderr
    lines = github.stdout.splitlines()
    parsed = [GITHUB_LINE.match(line) for line in lines]
    assert all(parsed), lines
    found = sorted((unescape(m["file"]), unescape(m["title"]), unescape(m["message"])) for m in parsed if m)
    assert found == [
        ("articles/2023/konge.txt", "stale translation translations/aligned/2023/konge.txt.jsonl", "source changed"),
        ("articles/2023/konge.txt", "stale translation translations/da/2023/konge.txt", "source changed"),
        ("articles/2023/konge.txt", "stale translation translations/nn/2023/konge.txt", "source changed"),
        ("articles/vei.txt", "stale translation translations/da/vei.txt", "missing"),
    ]
    assert "4 of 9 outputs (2 of 3 documents) are stale or missing" in github.stderr

    for json_args in (("--json",), ("--output-format", "json")):
        done = multitrans(*args, *json_args, cwd=repo)
        assert done.returncode == 1, done.stderr
        data = json.loads(done.stdout)
        assert sorted((s["file"], s["output_path"], s["reason"]) for s in data["stale"]) == [
            (file, title.removeprefix("stale translation "), reason) for file, title, reason in found]
        assert {s["source"] for s in data["stale"]} == {"2023/konge.txt", "vei.txt"}
        assert data["stale_documents"] == sorted(data["stale_documents"]) and len(data["stale_documents"]) == 2


@needs_apertium
def test_a_comma_or_percent_in_a_path_is_escaped(translated, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(translated, repo)
    (repo / "translations" / "nn" / "sjø, og 100% vind.md").write_text("endret\n", encoding="utf-8")
    done = multitrans("batch", "articles", "--to", "nn,da", "--out", "translations", "--from", "nb", "--check",
                      "--output-format", "github", cwd=repo)
    assert done.returncode == 1, done.stderr
    expected = ("::warning file=articles/sjø%2C og 100%25 vind.md,"
                "title=stale translation translations/nn/sjø%2C og 100%25 vind.md::output modified")
    assert done.stdout.splitlines() == [expected]


def test_an_output_whose_article_is_gone_is_annotated_on_itself(tmp_path, monkeypatch):
    """An orphaned output has no article to point at; the warning lands on the output file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "here.txt").write_text("Her.\n", encoding="utf-8")
    found = annotations(tmp_path / "articles", Path("out"), [Stale("gone.txt", "nn/gone.txt", "orphaned"),
                                                             Stale("here.txt", "nn/here.txt", "missing")])
    assert [(a.file, a.output_path) for a in found] == [("out/nn/gone.txt", "out/nn/gone.txt"),
                                                        ("articles/here.txt", "out/nn/here.txt")]


def test_output_format_needs_check(tmp_path):
    done = multitrans("batch", str(tmp_path), "--to", "nn", "--out", str(tmp_path / "out"), "--output-format",
                      "github", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --output-format github lists stale outputs: it goes with --check"
