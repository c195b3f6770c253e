"""Injected faults: missing or broken models, a missing or dying Apertium, unwritable output,
a process killed mid-write, an engine that raises.  Each has its message and exit code, and
none leaves a partial output file."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Scripted, fake_models, reverse_words  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()
NORWEGIAN = ("Det er ikke sant, sier talsmannen.\n\nNord-Korea har sendt mange containere til Russland.\n\n"
             "Her er det ikke noe BOOM i det hele tatt.\n\nSanksjonene gjelder fortsatt, og det er ikke slutt.\n")


def invoke(tmp_path: Path, models: str | Path, *args: str, source: str = NORWEGIAN, to: str = "en"):
    article = tmp_path / "a.txt"
    article.write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(article), "--to", to, "--from", "nb", "--out", str(out),
                                 "--models", str(models), *NO_MEMORY, *args])
    return result, out


def registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()) if path.exists() else []


def test_a_model_missing_offline_is_one_warning_and_the_source_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    models = registry(tmp_path, "models:\n  m: {engine: nllb, model: someone/not-cached-model}\nroutes:\n  - {from: '*', to: '*', use: m}\n")
    result, out = invoke(tmp_path, models, "--offline")
    assert result.exit_code == 1, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert warnings == ["warning: not translated: no model available for Norwegian Bokmål (nb) → English (en): "
                        "m: model someone/not-cached-model (m) is not on this machine (offline mode); fetch it while "
                        "online with `multitrans models pull --to LANGS --from LANGS` (here: multitrans models pull --to en --from nb)"]
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == NORWEGIAN
    rows = [json.loads(line) for line in (out / "aligned" / "a.txt.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["translations"]["en"]["flags"][0]["code"] for r in rows} == {"not_translated"}


def _broken_copy(source: Path, target: Path, how: str) -> Path:
    shutil.copytree(source, target)
    if how == "truncated weights":
        weights = target / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif how == "no tokenizer":
        for spm in target.glob("*.spm"):
            spm.unlink()
    elif how == "no config":
        (target / "config.json").unlink()
    elif how == "no weights":
        (target / "model.safetensors").unlink()
    return target


@pytest.mark.slow
@pytest.mark.parametrize(
    "how, message",
    [
        ("truncated weights", "could not be loaded (corrupt or incomplete model directory?): SafetensorError"),
        ("no tokenizer", "could not be loaded (corrupt or incomplete model directory?)"),
        ("no config", "could not be loaded (corrupt or incomplete model directory?)"),
        ("no weights", "has no weights in"),
    ],
)
def test_a_corrupt_or_partial_model_directory_is_a_warning_not_a_crash(tmp_path, tiny_marian_dir, how, message):
    broken = _broken_copy(tiny_marian_dir, tmp_path / "broken", how)
    models = registry(tmp_path, f"models:\n  m: {{engine: marian, model: {broken}}}\nroutes:\n  - {{from: nb, to: en, use: m}}\n")
    result, out = invoke(tmp_path, models, "--offline")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert message in warning
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == NORWEGIAN


def test_a_missing_apertium_program_is_a_warning_naming_what_to_install(tmp_path):
    models = registry(tmp_path, "models:\n  apertium: {engine: apertium, options: {program: /nonexistent/apertium}}\n"
                                "routes:\n  - {from: nb, to: nn, use: apertium}\n")
    result, out = invoke(tmp_path, models, to="nn")
    assert result.exit_code == 1, result.output
    assert "the 'apertium' program is not installed; install it with: apt-get install apertium" in result.output
    assert (out / "nn" / "a.txt").read_text(encoding="utf-8") == NORWEGIAN


FAKE_APERTIUM = """\
#!/bin/sh
# A stand-in for apertium: lists one mode, "translates" ikke -> ikkje, and dies (SIGKILL)
# on any input holding BOOM, as a crashing or OOM-killed process would.
if [ "$1" = "-l" ]; then echo nob-nno; exit 0; fi
input=$(cat)
case "$input" in *BOOM*) kill -9 $$;; esac
printf '%s\\n' "$input" | sed 's/ikke/ikkje/g'
"""


def test_apertium_dying_mid_run_costs_only_the_sentence_it_died_on(tmp_path):
    program = tmp_path / "apertium"
    program.write_text(FAKE_APERTIUM, encoding="utf-8")
    program.chmod(0o755)
    models = registry(tmp_path, f"models:\n  apertium: {{engine: apertium, options: {{program: {program}}}}}\n"
                                "routes:\n  - {from: nb, to: nn, use: apertium}\n")
    result, out = invoke(tmp_path, models, to="nn")
    assert result.exit_code == 1, result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert warning == ("warning: apertium failed on nb→nn: apertium nob-nno was killed by signal 9 (SIGKILL); "
                       "retried: 1 of 4 sentence(s) kept untranslated")
    assert (out / "nn" / "a.txt").read_text(encoding="utf-8") == NORWEGIAN.replace("ikke", "ikkje").replace(
        "Her er det ikkje noe BOOM", "Her er det ikke noe BOOM")


def test_a_segment_whose_translation_raises_is_reported_and_the_rest_completes(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o, raise_on="BOOM")})
    result, out = invoke(tmp_path, models, to="en,de")
    assert result.exit_code == 1, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: m failed on nb→{lang}: engine crashed on 'BOOM'; retried: 1 of 4 sentence(s) kept untranslated"
                        for lang in ("en", "de")]
    blocks = NORWEGIAN.strip().split("\n\n")
    expected = "\n\n".join(b if "BOOM" in b else reverse_words(b) for b in blocks) + "\n"
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == expected
    assert (out / "de" / "a.txt").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    "fault, message",
    [
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
        (OSError(errno.EROFS, "Read-only file system"), "Read-only file system"),
    ],
)
def test_an_unwritable_output_directory_exits_3_and_leaves_nothing(tmp_path, fake_models, monkeypatch, fault, message):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})

    def refuse(*args, **kwargs):
        raise fault

    monkeypatch.setattr("multitrans.output.tempfile.mkstemp", refuse)
    result, out = invoke(tmp_path, models, to="en,de")
    assert result.exit_code == 3, result.output
    [line] = result.output.strip().splitlines()[-1:]
    assert line.startswith("error: cannot write ") and f"{message}; no file of this set was written" in line
    assert files_under(out) == [] and not (out / "en").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_really_read_only_output_directory_exits_3(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        result, _ = invoke(tmp_path, models)
    finally:
        out.chmod(0o755)
    assert result.exit_code == 3 and "Permission denied" in result.output
    assert files_under(out) == []


def test_disk_full_while_writing_leaves_no_new_file_and_keeps_old_ones(tmp_path, fake_models, monkeypatch):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    out = tmp_path / "out"
    (out / "en").mkdir(parents=True)
    (out / "en" / "a.txt").write_text("last week's translation", encoding="utf-8")
    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("multitrans.output.os.fsync", fsync)
    result, _ = invoke(tmp_path, models, to="en,de")
    assert result.exit_code == 3, result.output
    assert "No space left on device; no file of this set was written" in result.output
    assert files_under(out) == ["en/a.txt"]
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == "last week's translation"


def test_each_document_is_written_whole_or_not_at_all(tmp_path, fake_models, monkeypatch):
    """Two documents; writing the second fails: the first is complete, the second has no file."""
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(NORWEGIAN, encoding="utf-8")
    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 5:  # a.txt: en, de, aligned; b.txt: en, then de fails
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("multitrans.output.os.fsync", fsync)
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--to", "en,de",
                                 "--from", "nb", "--out", str(out), "--models", models, *NO_MEMORY])
    assert result.exit_code == 3, result.output
    assert files_under(out) == ["aligned/a.txt.jsonl", "de/a.txt", "en/a.txt"]


def test_an_interrupt_while_writing_leaves_no_temporary_file(tmp_path, fake_models, monkeypatch):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr("multitrans.output.os.fsync", interrupted)
    result, out = invoke(tmp_path, models)
    assert result.exit_code == 130
    assert files_under(out) == []


KILLED_WRITER = """\
import os, signal, sys
from pathlib import Path
import multitrans.output as output

out = Path(sys.argv[1])
real_fsync, calls = os.fsync, []

def fsync(fd):
    calls.append(fd)
    if len(calls) == 2:          # the second file is half written: die as `kill -9` would
        os.kill(os.getpid(), signal.SIGKILL)
    real_fsync(fd)

output.os.fsync = fsync
output.write_atomic_all([(out / "en" / "a.txt", "x" * 100_000), (out / "de" / "a.txt", "y" * 100_000),
                         (out / "aligned" / "a.txt.jsonl", "{}\\n")])
"""


def test_a_process_killed_mid_write_never_leaves_a_truncated_output_file(tmp_path):
    out = tmp_path / "out"
    (out / "en").mkdir(parents=True)
    (out / "en" / "a.txt").write_text("old", encoding="utf-8")
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(KILLED_WRITER), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    visible = [f for f in files_under(out) if not Path(f).name.startswith(".")]
    assert visible == ["en/a.txt"]
    assert (out / "en" / "a.txt").read_text(encoding="utf-8") == "old"
    leftovers = [f for f in files_under(out) if Path(f).name.startswith(".")]
    assert all(Path(f).name.endswith(".tmp") for f in leftovers) and leftovers  # only hidden temporaries remain
