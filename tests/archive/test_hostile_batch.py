"""One bad document never stops a batch job, a job's exit code says what a run left undone, and
outputs of deleted sources are listed and, with --prune, removed (issue 13, items 13, 14, 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import Norwegian, Scripted, fake_models, recording_setup  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.archive.job import BatchError, check_batch, run_batch
from multitrans.cli import app

runner = CliRunner()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def archive_of(root: Path, *names: str) -> Path:
    for name in names:
        write(root / name, f"Det var en gang en konge som het {name[0].upper()}. Han bodde i et slott.\n")
    return root


def batch(archive: Path, out: Path, **kwargs):
    registry, pool, _ = recording_setup()
    return run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian(), **kwargs)


# --- item 13: one bad document ---------------------------------------------------------------------


def test_an_output_that_is_a_link_inside_out_fails_that_document_alone(tmp_path):
    """A link nn/b.txt -> c.txt made the two documents 'collide' and stopped the whole job."""
    archive, out = archive_of(tmp_path / "archive", "a.txt", "b.txt", "c.txt"), tmp_path / "out"
    (out / "de").mkdir(parents=True)
    (out / "de" / "b.txt").symlink_to("c.txt")
    summary = batch(archive, out)
    assert summary.done == 2
    assert [f["document"] for f in summary.failed] == ["b.txt"]
    assert "is a link" in summary.failed[0]["error"]
    assert (out / "de" / "b.txt").is_symlink() and (out / "de" / "c.txt").is_file()
    assert "konge" not in (out / "de" / "c.txt").read_text(encoding="utf-8").split()[0]  # c's own translation


def test_a_name_with_a_newline_is_one_line_of_the_summary(tmp_path, fake_models):
    archive, out = archive_of(tmp_path / "archive", "a.txt", "a\nb.txt", "c.txt"), tmp_path / "out"
    models = fake_models({"m": Scripted})
    result = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(out), "--models", models,
                                 "--from", "nb", "--workers", "1", "--no-memory"])
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert failed == [("failed: a\\nb.txt: the output name 'de/a\\nb.txt' holds the control character '\\n'; "
                       "rename the input")]
    assert (out / "de" / "a.txt").is_file() and (out / "de" / "c.txt").is_file()


def test_untranslated_blocks_make_batch_exit_1_like_translate(tmp_path, fake_models):
    archive, out = archive_of(tmp_path / "archive", "a.txt"), tmp_path / "out"
    models = fake_models({"m": Scripted}, "  - {from: '*', to: de, use: [m]}")
    served = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(out), "--models", models,
                                 "--from", "nb", "--workers", "1", "--no-memory"])
    assert served.exit_code == 0, served.output
    unserved = runner.invoke(app, ["batch", str(archive), "--to", "nn", "--out", str(out), "--models", models,
                                   "--from", "nb", "--workers", "1", "--no-memory"])
    assert unserved.exit_code == 1, unserved.output
    assert "warning: not translated" in unserved.output and (out / "nn" / "a.txt").is_file()


# --- item 16: a glob that cannot match ---------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["../*.txt", "/etc/*.txt", "news/../../*.md", "~/*.txt"])
def test_a_glob_that_escapes_the_archive_is_refused(tmp_path, pattern):
    archive = archive_of(tmp_path / "archive", "a.txt")
    with pytest.raises(BatchError, match="reaches outside the archive"):
        batch(archive, tmp_path / "out", globs=[pattern])
    assert not (tmp_path / "out").exists()


def test_the_cli_says_so_in_one_line(tmp_path, fake_models):
    archive = archive_of(tmp_path / "archive", "a.txt")
    result = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(tmp_path / "out"),
                                 "--models", fake_models({"m": Scripted}), "--glob", "../*.txt", "--check"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --glob '../*.txt' reaches outside the archive")
    assert len(result.output.strip().splitlines()) == 1


# --- item 14: orphans ----------------------------------------------------------------------------------


def test_a_run_lists_orphans_and_prune_removes_only_what_it_wrote(tmp_path):
    archive = archive_of(tmp_path / "archive", "a.txt", "old/b.txt", "c.txt")
    out = tmp_path / "out"
    batch(archive, out)
    (archive / "old" / "b.txt").unlink()
    (archive / "c.txt").unlink()
    write(out / "de" / "mine.txt", "a file multitrans never wrote\n")
    (out / "aligned" / "c.txt.jsonl").write_text("edited by hand\n", encoding="utf-8")

    listed = batch(archive, out)
    assert [(o["source"], o["output"]) for o in listed.orphaned] == [
        ("c.txt", "aligned/c.txt.jsonl"), ("c.txt", "de/c.txt"),
        ("old/b.txt", "aligned/old/b.txt.jsonl"), ("old/b.txt", "de/old/b.txt")]
    assert (out / "de" / "old" / "b.txt").is_file() and not listed.pruned

    pruned = batch(archive, out, prune=True)
    assert sorted(o["output"] for o in pruned.pruned) == ["aligned/old/b.txt.jsonl", "de/c.txt", "de/old/b.txt"]
    assert [o["output"] for o in pruned.orphaned] == ["aligned/c.txt.jsonl"]  # changed since: kept, still listed
    assert not (out / "de" / "old").exists() and not (out / "aligned" / "old").exists()
    assert (out / "de" / "mine.txt").is_file() and (out / "de" / "a.txt").is_file()
    assert (out / "aligned" / "c.txt.jsonl").read_text(encoding="utf-8") == "edited by hand\n"
    manifest = json.loads((out / ".multitrans" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["documents"]) == ["a.txt", "c.txt"]  # b.txt forgotten; c.txt still has an output

    checked = check_batch(archive, ["de"], out, registry=recording_setup()[0])
    assert [o.output for o in checked.orphaned] == ["aligned/c.txt.jsonl"] and not checked.stale


def test_the_cli_lists_orphans_and_refuses_prune_with_check(tmp_path, fake_models):
    archive, out = archive_of(tmp_path / "archive", "a.txt", "b.txt"), tmp_path / "out"
    models = fake_models({"m": Scripted})
    common = ["--to", "de", "--out", str(out), "--models", models, "--from", "nb", "--workers", "1"]
    assert runner.invoke(app, ["batch", str(archive), *common]).exit_code == 0
    (archive / "b.txt").unlink()
    listed = runner.invoke(app, ["batch", str(archive), *common])
    assert listed.exit_code == 0, listed.output
    assert "warning: orphaned de/b.txt (its source b.txt is gone; --prune removes it)" in listed.output
    refused = runner.invoke(app, ["batch", str(archive), *common, "--check", "--prune"])
    assert refused.exit_code == 2 and "--prune" in refused.output
    pruned = runner.invoke(app, ["batch", str(archive), *common, "--prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "removed de/b.txt (its source b.txt is gone)" in pruned.output and not (out / "de" / "b.txt").exists()


def test_a_long_unknown_executor_is_not_echoed_in_full(tmp_path):
    """Item 16: a 100,000-character --executor came back whole in the error line."""
    archive = archive_of(tmp_path / "archive", "a.txt")
    with pytest.raises(BatchError) as caught:
        batch(archive, tmp_path / "out", executor="x" * 100_000)
    message = str(caught.value)
    assert "… (100,000 characters)" in message and len(message) < 300
