"""Named pipes and other files that are not regular files are never read (a read would wait
forever for a writer): `translate` refuses one with exit 2, `batch` and `batch --check`
report it and go on, an XLIFF import refuses one (issue 13, group 7)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Norwegian, Scripted, fake_models, recording_setup  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.archive.job import check_batch, discover, run_batch
from multitrans.cli import app
from multitrans.inputs import InputError, read_text

runner = CliRunner()
NORWEGIAN = "Nord-Korea har sendt mange containere med ammunisjon til Russland.\n"


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A test that blocks on a pipe fails after 20 s instead of hanging the suite."""

    def expire(signum, frame):
        raise TimeoutError("blocked on a named pipe")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def test_reading_a_named_pipe_is_refused_not_waited_on(tmp_path):
    fifo = _fifo(tmp_path / "x.txt")
    with pytest.raises(InputError, match=r"x\.txt is a named pipe \(FIFO\), not a regular file"):
        read_text(fifo)


def test_translate_refuses_a_named_pipe_with_one_line(tmp_path, fake_models):
    fifo, out = _fifo(tmp_path / "x.txt"), tmp_path / "O"
    models = fake_models({"m": Scripted})
    result = runner.invoke(app, ["translate", str(fifo), "--to", "nn", "--out", str(out), "--models", models,
                                 "--from", "nb", *NO_MEMORY])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {fifo} is a named pipe (FIFO), not a regular file; multitrans reads only regular files"
    assert not out.exists()


def _archive(root: Path) -> Path:
    (root / "a.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "a.txt").write_text(NORWEGIAN, encoding="utf-8")
    _fifo(root / "sub" / "x.txt")
    return root


def test_batch_and_check_skip_a_named_pipe_with_a_warning(tmp_path):
    archive, out = _archive(tmp_path / "archive"), tmp_path / "out"
    paths, warnings = discover(archive)
    assert paths == ["a.txt"]
    assert warnings == ["sub/x.txt is a named pipe (FIFO), not a regular file; multitrans reads only regular files; skipped"]
    registry, pool, _ = recording_setup()
    checked = check_batch(archive, ["de"], out, registry=registry)
    assert checked.documents == 1 and checked.warnings == warnings
    summary = run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian())
    assert summary.done == 1 and summary.failed == [] and summary.warnings == warnings
    assert (out / "de" / "a.txt").is_file()


def test_a_named_pipe_in_an_outputs_place_does_not_block_the_job(tmp_path):
    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    (archive / "a.txt").write_text(NORWEGIAN, encoding="utf-8")
    _fifo(out / "de" / "a.txt")
    registry, pool, _ = recording_setup()
    assert [s.output for s in check_batch(archive, ["de"], out, registry=registry).stale]
    summary = run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian())
    assert summary.done == 1 and (out / "de" / "a.txt").is_file()


def test_import_refuses_a_named_pipe(tmp_path):
    fifo = _fifo(tmp_path / "x.xlf")
    result = runner.invoke(app, ["import", str(fifo), "--out", str(tmp_path / "O")])
    assert result.exit_code == 2
    assert "is a named pipe (FIFO)" in result.output and len(result.output.strip().splitlines()) == 1


# --- group 13: one document that cannot be placed fails alone ---------------------------------------


def test_a_batch_document_without_a_valid_output_path_fails_alone(tmp_path):
    archive, out, elsewhere = tmp_path / "archive", tmp_path / "out", tmp_path / "elsewhere"
    for name in ("a.txt", "a\nb.txt", "c.txt"):
        (archive / name).parent.mkdir(parents=True, exist_ok=True)
        (archive / name).write_text(NORWEGIAN, encoding="utf-8")
    elsewhere.mkdir()
    (out / "de").mkdir(parents=True)
    (out / "de" / "c.txt").symlink_to(elsewhere / "c.txt")  # an output that is a link out of --out
    registry, pool, _ = recording_setup()
    checked = check_batch(archive, ["de"], out, registry=registry)
    assert checked.documents == 1 and len(checked.warnings) == 2
    summary = run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian())
    assert summary.done == 1 and summary.documents == 3
    failed = {f["document"]: f["error"] for f in summary.failed}
    assert set(failed) == {"a\nb.txt", "c.txt"}
    assert "control character" in failed["a\nb.txt"] and "leads through a link to" in failed["c.txt"]
    assert (out / "de" / "a.txt").is_file() and list(elsewhere.iterdir()) == []


# --- group 14: outputs of deleted sources ------------------------------------------------------------


def test_check_reports_the_outputs_of_a_deleted_source_as_orphaned(tmp_path):
    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    for name in ("a.txt", "b.txt"):
        (archive / name).write_text(NORWEGIAN, encoding="utf-8")
    registry, pool, _ = recording_setup()
    assert run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian()).done == 2
    (archive / "b.txt").unlink()
    checked = check_batch(archive, ["de"], out, registry=recording_setup()[0])
    assert checked.stale == []
    assert [(o.source, o.output) for o in checked.orphaned] == [("b.txt", "aligned/b.txt.jsonl"), ("b.txt", "de/b.txt")]
    assert checked.to_json()["orphaned"][1] == {"source": "b.txt", "output": "de/b.txt"}
    models = tmp_path / "models.yaml"
    models.write_text("models:\n  m: {engine: nllb, model: x/m, revision: r1}\nroutes:\n  - {from: '*', to: '*', use: [m]}\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(out), "--check", "--models", str(models)])
    assert result.exit_code == 1, result.output
    assert "orphaned de/b.txt (its source b.txt is gone)" in result.output
