import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from multitrans.cli import app
from multitrans.engines.base import EngineOptions
from multitrans.errors import UserError
from samples import ARTICLE as ARTICLE_PATH

ARTICLE = str(ARTICLE_PATH)


runner = CliRunner()


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group of the app, as the words that call it and its Click object."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


# Discovered from the app, so a command added later is checked without being listed here.
ALL = dict(_walk(typer.main.get_command(app)))
COMMANDS = [path for path, command in ALL.items() if not hasattr(command, "commands")]
GROUPS = [path for path, command in ALL.items() if hasattr(command, "commands")]
LOAD_MODELS = [("translate",), ("batch",), ("export",), ("review",), ("models", "convert")]


def test_discovery_finds_every_command():
    assert {("translate",), ("detect",), ("languages",), ("batch",), ("export",), ("import",), ("review",),
            ("models", "list"), ("models", "pull"), ("models", "convert"),
            ("memory", "stats"), ("memory", "export"), ("memory", "prune")} <= set(COMMANDS)
    assert {(), ("models",), ("memory",)} <= set(GROUPS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: multitrans " + " ".join(command) in result.output


@pytest.mark.parametrize("group", GROUPS, ids=lambda path: " ".join(path) or "multitrans")
def test_every_group_help_lists_its_commands(group):
    result = runner.invoke(app, [*group, "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ALL[group].commands)


@pytest.mark.parametrize("command", LOAD_MODELS, ids=" ".join)
def test_every_command_that_loads_models_takes_the_model_options(command):
    names = {name for param in ALL[command].params for name in param.opts}
    assert {"--models", "--offline", "--allow-pickle"} <= names


@pytest.mark.parametrize("command", [c for c in LOAD_MODELS if c != ("models", "convert")], ids=" ".join)
def test_every_command_that_translates_checks_the_device(command):
    result = runner.invoke(app, [*command, "article.txt", "--to", "nn", "--device", "tpu"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == "error: unknown --device 'tpu'; use auto, cpu or cuda"


def test_batch_hands_the_model_options_to_the_job(tmp_path, monkeypatch):
    seen: dict[str, Any] = {}

    def run_batch(archive: Path, targets: list[str], out: Path, **kwargs: Any) -> None:
        seen.update(kwargs, targets=targets)
        raise UserError("stopped before translating")

    monkeypatch.setattr("multitrans.archive.job.run_batch", run_batch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    result = runner.invoke(app, ["batch", str(tmp_path), "--to", "nn, Danish", "--offline", "--allow-pickle",
                                 "--device", "cpu", "--beam", "2"])
    assert result.exit_code == 2 and "stopped before translating" in result.output
    assert seen["options"] == EngineOptions(device="cpu", beam=2, offline=True)  # --allow-pickle: deprecated, no effect
    assert seen["targets"] == ["nn", "da"]
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\nfrom multitrans.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('MODULES:' + ' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("MODULES:"))
    return set(line.removeprefix("MODULES:").split())


@pytest.mark.parametrize(
    "args", [["--help"], ["languages", "--json"], ["translate", "--help"], ["detect", ARTICLE]]
)
def test_light_commands_do_not_import_torch_or_transformers(args):
    assert _modules_after(args) == set()


def test_help_starts_fast():
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "multitrans", "--help"], capture_output=True, check=True)
    assert time.perf_counter() - start < 3.0  # generous for a loaded CI machine; typically ~0.3 s


def test_languages_lists_routes_from_a_source():
    result = runner.invoke(app, ["languages", "--from", "nb", "--json"])
    assert result.exit_code == 0
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert len(rows) >= 200
    assert rows["nn"]["route"][0] == "apertium"
    assert rows["de"]["name"] == "German" and rows["de"]["route"][0] == "opus-mt-no-de"
    assert "nb" not in rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["translate", "article.docx", "--to", "nn"], "unsupported file type '.docx'"),
        (["translate", "missing.txt", "--to", "nn"], "no such file: missing.txt"),
        (["translate", "-", "--to", "nn,da"], "exactly one --to language"),
        (["translate", "-", "--to", "xx"], "Unknown language 'xx'"),
        (["languages", "--from", "norwegain"], "did you mean"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(args, message):
    result = runner.invoke(app, args, input="Hei.")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_too_little_text_asks_for_from(tmp_path):
    date_only = tmp_path / "d.txt"
    date_only.write_text("16/10/2023\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(date_only), "--to", "nn", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "pass --from LANG" in result.output
    assert not (tmp_path / "o").exists()


def test_detect_reports_document_language_and_other_blocks():
    result = runner.invoke(app, ["detect", ARTICLE, "--json"])
    assert result.exit_code == 0
    [report] = json.loads(result.output)
    assert report["language"] == "nb" and report["confidence"] > 0.9
    assert [(b["id"], b["language"]) for b in report["other_blocks"]] == [(0, "en"), (13, "en")]


def test_verbose_shows_the_traceback():
    result = runner.invoke(app, ["translate", "missing.txt", "--to", "nn", "-v"])
    assert result.exit_code == 2
    assert "Traceback" in result.output


def test_broken_registry_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "models.yaml"
    bad.write_text("models:\n  m: {engine: marian}\nroutes: []\n", encoding="utf-8")
    result = runner.invoke(app, ["languages", "--models", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: key 'models.m.model'" in result.output


def test_models_pull_reports_what_it_fetched_and_apertium(tmp_path, tiny_marian_dir):
    registry = tmp_path / "models.yaml"
    registry.write_text(f"models:\n  m: {{engine: marian, model: {tiny_marian_dir}}}\nroutes:\n  - {{from: nb, to: en, use: m}}\n")
    result = runner.invoke(app, ["models", "pull", "--to", "en", "--from", "nb", "--models", str(registry)])
    assert result.exit_code == 0, result.output
    assert f"nb→en: m ({tiny_marian_dir})" in result.output
    result = runner.invoke(app, ["models", "list", "--json", "--models", str(registry)])
    assert json.loads(result.output) == [{"name": "m", "engine": "marian", "model": str(tiny_marian_dir), "revision": None, "present": True}]


def test_models_pull_with_nothing_to_fetch_offline_exits_1(tmp_path, monkeypatch):
    registry = tmp_path / "models.yaml"
    registry.write_text("models:\n  m: {engine: nllb, model: someone/absent}\nroutes:\n  - {from: nb, to: en, use: m}\n")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(app, ["models", "pull", "--to", "en", "--from", "nb", "--models", str(registry)])
    assert result.exit_code == 1
    assert "nb→en: nothing could be fetched" in result.output
