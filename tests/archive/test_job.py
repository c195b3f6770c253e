"""Batch jobs: discovery, mirrored outputs, skipping what is current, --check, failures, the 200-article archive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import run_batch_cli
from fakes import Norwegian, recording_setup
from multitrans.archive.job import BatchError, _Lock, check_batch, discover, glob_regex, run_batch
from multitrans.cli import app
from multitrans.pipeline.detect import TooLittleText
from multitrans.engines.base import EngineOptions
from multitrans.archive.workers import gpu_assignments, plan_workers
from multitrans.formats.text import read
from multitrans.config.registry import Registry

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
runner = CliRunner()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def small_archive(root: Path) -> Path:
    write(root / "2023" / "a.txt", "Første sak\n\nDet var en gang en konge. Han bodde i et slott.\n")
    write(root / "2023" / "b.md", "# Andre sak\n\nKongen hadde tre døtre.\n\n- Den eldste het Anne.\n")
    write(root / "c.txt", "Tredje sak\n\nDet var en gang en konge. Slottet lå ved sjøen.\n")
    write(root / "notes.csv", "not an article\n")
    write(root / ".hidden" / "d.txt", "Skjult.\n")
    return root


def stats(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every file under out, outside the job's state folder."""
    return {p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and ".multitrans" not in p.parts}


def contents(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*") if p.is_file() and ".multitrans" not in p.parts}


def batch(archive: Path, out: Path, targets=("de", "fr"), registry: Registry | None = None, **kwargs):
    """A job in this process with the recording engine; returns (summary, the engine or None if never loaded)."""
    registry_, pool, loaded = recording_setup()
    summary = run_batch(archive, list(targets), out, registry=registry or registry_, pool=pool, detector=Norwegian(),
                        **kwargs)
    return summary, loaded.get("m")


def check(archive: Path, out: Path, targets=("de", "fr"), registry: Registry | None = None):
    return check_batch(archive, list(targets), out, registry=registry or recording_setup()[0])


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*.txt", "a.txt", True),
    ("*.txt", "2023/10/a.txt", True),
    ("*.txt", "a.md", False),
    ("2023/*.txt", "2023/a.txt", True),
    ("2023/*.txt", "2023/10/a.txt", False),
    ("2023/**/*.txt", "2023/10/a.txt", True),
    ("2023/**/*.txt", "2023/a.txt", True),
    ("artikkel-0[0-4]?.txt", "x/artikkel-042.txt", True),
    ("artikkel-0[!0-4]?.txt", "x/artikkel-042.txt", False),
])
def test_glob_patterns(pattern, path, matches):
    assert bool(glob_regex(pattern).match(path)) is matches


def test_discovery_skips_hidden_other_types_the_output_and_links_leading_out(tmp_path):
    archive = small_archive(tmp_path / "archive")
    outside = write(tmp_path / "secret.txt", "Hemmelig.\n")
    (archive / "leak.txt").symlink_to(outside)
    (archive / "inside.txt").symlink_to(archive / "c.txt")
    (archive / "linked-folder").symlink_to(tmp_path, target_is_directory=True)
    write(archive / "out" / "de" / "c.txt", "Ausgabe.\n")
    paths, warnings = discover(archive, exclude=[archive / "out"])
    assert paths == ["2023/a.txt", "2023/b.md", "c.txt", "inside.txt"]
    assert any("leak.txt" in w and "outside the archive" in w for w in warnings)
    assert any("linked-folder" in w for w in warnings)
    assert discover(archive, ["2023/*.md"])[0] == ["2023/b.md"]


def test_each_local_worker_gets_a_gpu_of_its_own():
    assert gpu_assignments(2, 2) == ["0", "1"]
    assert gpu_assignments(2, 2, "3,5") == ["3", "5"]
    assert gpu_assignments(3, 2) == ["0", "1", "0"]
    assert gpu_assignments(2, 0) == []


def test_workers_never_oversubscribe_cores():
    assert plan_workers(2) == (2, 1)
    assert plan_workers(1) == (1, 1)
    assert plan_workers(16) == (4, 4)
    assert plan_workers(16, gpus=2) == (2, 8)
    assert plan_workers(8, requested=3) == (3, 2)
    for cores in range(1, 65):
        workers, threads = plan_workers(cores)
        assert workers * threads <= cores


# --- jobs with a recording engine ----------------------------------------------------------


def test_outputs_mirror_the_archive_and_reruns_touch_nothing(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    summary, engine = batch(archive, out)
    assert (summary.documents, summary.done, summary.skipped, summary.failed) == (3, 3, 0, [])
    assert sorted(contents(out)) == [
        "aligned/2023/a.txt.jsonl", "aligned/2023/b.md.jsonl", "aligned/c.txt.jsonl",
        "de/2023/a.txt", "de/2023/b.md", "de/c.txt", "fr/2023/a.txt", "fr/2023/b.md", "fr/c.txt",
    ]
    assert (out / "de" / "2023" / "b.md").read_text(encoding="utf-8").startswith("# ANDRE SAK [de]\n\nKONGEN HADDE")
    shared = "Det var en gang en konge."
    assert engine.segments.count(shared) == 2  # once per target, though two documents hold it
    assert summary.files_written == 9 and summary.segments_translated > 0
    before, first = stats(out), contents(out)
    again, engine = batch(archive, out)
    assert (again.done, again.skipped, again.files_written) == (0, 3, 0)
    assert engine is None or engine.calls == []
    assert stats(out) == before and contents(out) == first
    assert check(archive, out).stale == []


def test_one_edited_paragraph_is_all_that_is_stale_and_all_that_is_translated(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    batch(archive, out)
    before, first = stats(out), contents(out)
    write(archive / "2023" / "a.txt", "Første sak\n\nDet var en gang en dronning. Han bodde i et slott.\n")
    result = check(archive, out)
    assert {s.output for s in result.stale} == {"de/2023/a.txt", "fr/2023/a.txt", "aligned/2023/a.txt.jsonl"}
    assert {s.reason for s in result.stale} == {"source changed"}
    assert result.stale_documents == ["2023/a.txt"]
    summary, engine = batch(archive, out)
    assert (summary.done, summary.skipped) == (1, 2)
    assert engine.segments == ["Det var en gang en dronning."] * 2  # de and fr; the rest came from the memory
    after = stats(out)
    changed = {path for path in after if after[path] != before[path]}
    assert changed == {"de/2023/a.txt", "fr/2023/a.txt", "aligned/2023/a.txt.jsonl"}
    assert contents(out)["de/2023/a.txt"] == "FØRSTE SAK [de]\n\nDET VAR EN GANG EN DRONNING. [de] HAN BODDE I ET SLOTT. [de]\n".encode()
    assert check(archive, out).stale == []
    assert {p: first[p] for p in first if p not in changed} == {p: contents(out)[p] for p in first if p not in changed}


def test_check_names_missing_modified_and_route_changes(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    assert {s.reason for s in check(archive, out).stale} == {"missing"}
    batch(archive, out)
    (out / "fr" / "c.txt").unlink()
    write(out / "de" / "c.txt", "edited by hand\n")
    assert {(s.output, s.reason) for s in check(archive, out).stale} == {("fr/c.txt", "missing"), ("de/c.txt", "output modified")}
    batch(archive, out)
    assert check(archive, out).stale == []
    newer, _, _ = recording_setup(revision="r2")
    stale = check(archive, out, registry=newer).stale
    assert len(stale) == 6 and all(s.reason.startswith("models for nb→") for s in stale)
    added = check(archive, out, targets=("de", "fr", "sv")).stale
    assert {s.reason for s in added if s.output.startswith("sv/")} == {"missing"}
    assert {s.reason for s in added if s.output.startswith("aligned/")} == {"languages changed"}
    assert not [s for s in added if s.output.startswith(("de/", "fr/"))]


def test_a_failing_document_is_reported_and_the_others_finish(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    (archive / "latin1.txt").write_bytes("Blåbær og fløte.\n".encode("latin-1"))
    write(archive / "dates.txt", "16/10/2023\n")

    class Picky(Norwegian):
        def detect_document(self, texts):
            if all(not any(c.isalpha() for c in t) for t in texts):
                raise TooLittleText("too little text to tell its language; pass --from LANG")
            return super().detect_document(texts)

    registry, pool, _ = recording_setup()
    problems: list[str] = []
    summary = run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Picky(), on_problem=problems.append)
    assert summary.done == 3
    assert {f["document"] for f in summary.failed} == {"latin1.txt", "dates.txt"}
    assert any("not UTF-8" in f["error"] for f in summary.failed)
    assert any("too little text" in f["error"] for f in summary.failed)
    assert len(problems) == 2
    assert (out / "de" / "c.txt").exists() and not (out / "de" / "dates.txt").exists()


def test_outputs_that_would_collide_or_a_second_job_are_refused(tmp_path):
    archive, out = tmp_path / "archive", tmp_path / "out"
    write(archive / "x" / "a.txt", "En tekst.\n")
    write(archive / "y" / "a.txt", "En annen tekst.\n")
    with pytest.raises(BatchError, match="writes both x/a.txt and y/a.txt"):
        batch(archive, out, layout="{lang}/{name}")
    lock = _Lock(out / ".multitrans")
    try:
        with pytest.raises(BatchError, match="another multitrans batch job"):
            batch(archive, out)
    finally:
        lock.release()


def test_check_exit_codes_and_json(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    result = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(out), "--check", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["documents"] == 3 and len(data["stale"]) == 6 and data["stale_documents"] == ["2023/a.txt", "2023/b.md", "c.txt"]
    assert not out.exists()  # --check writes nothing
    batch(archive, out, targets=("de",))
    models = write(tmp_path / "models.yaml", "models:\n  m: {engine: nllb, model: x/m, revision: r1}\n"
                   "routes:\n  - {from: '*', to: '*', use: [m]}\n")
    clean = runner.invoke(app, ["batch", str(archive), "--to", "de", "--out", str(out), "--check", "--models", str(models)])
    assert clean.exit_code == 0, clean.output
    assert "all 6 outputs of 3 documents are current" in clean.output


def test_check_loads_no_model_library(tmp_path):
    archive = small_archive(tmp_path / "archive")
    code = ("import sys\nfrom multitrans.cli import app\n"
            f"try:\n    app(['batch', {str(archive)!r}, '--to', 'nn', '--out', {str(tmp_path / 'o')!r}, '--check'])\n"
            "except SystemExit:\n    pass\n"
            "print('MODULES:' + ' '.join(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'lingua')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "MODULES:"


# --- the archive of 200 real articles, with Apertium ---------------------------------------


@needs_apertium
@pytest.mark.slow
def test_200_articles_into_nn_da_sv(norwegian_archive, norwegian_batch):
    out, summary = norwegian_batch
    assert summary["documents"] == 200 and summary["done"] == 200 and summary["failed"] == []
    assert summary["files_written"] == 800
    assert summary["segments_reused"] > 0  # sentences shared between articles are translated once per pair
    print(f"\n200 articles into nn, da, sv: {summary['seconds']:.1f} s with {summary['workers']} workers; "
          f"{summary['segments_translated']} segments translated, {summary['segments_reused']} reused")
    assert summary["seconds"] < 180
    sources = sorted(p.relative_to(norwegian_archive).as_posix() for p in norwegian_archive.rglob("*.*"))
    assert len(sources) == 200
    for relative in sources[::17]:
        source = (norwegian_archive / relative).read_text(encoding="utf-8")
        for lang in ("nn", "da", "sv"):
            translated = (out / lang / relative).read_text(encoding="utf-8")
            assert translated != source
            if relative.endswith(".txt"):
                src_doc, out_doc = read(source, "a.txt"), read(translated, "a.txt")
                assert len(src_doc.blocks) == len(out_doc.blocks)
                assert [p for p in out_doc.template if isinstance(p, str)] == [p for p in src_doc.template if isinstance(p, str)]
        records = [json.loads(line) for line in (out / "aligned" / f"{relative}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert records[0]["source"]["lang"] == "en" if relative.endswith(".txt") else True
        assert any(r["translations"]["nn"]["engine"] == "apertium" for r in records)
    nynorsk = " ".join((out / "nn" / p).read_text(encoding="utf-8") for p in sources[:40])
    assert "ikkje" in nynorsk or "frå" in nynorsk or "eit " in nynorsk


@needs_apertium
@pytest.mark.slow
def test_a_rerun_skips_everything_and_rewrites_nothing(norwegian_archive, norwegian_batch, tmp_path):
    clean, _ = norwegian_batch
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    before = stats(out)
    code, summary, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out))
    assert code == 0, stderr  # nothing was left to translate, so no untranslated block either
    assert (summary["skipped"], summary["done"], summary["files_written"]) == (200, 0, 0)
    assert stats(out) == before and contents(out) == contents(clean)
    code, _, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out), "--check")
    assert code == 0, stderr


@needs_apertium
@pytest.mark.slow
def test_an_edited_paragraph_is_the_only_work_and_the_only_stale_file(norwegian_archive, norwegian_batch, tmp_path,
                                                                      monkeypatch):
    from multitrans.engines import load_engine
    from multitrans.engines.apertium import ApertiumEngine
    from multitrans.engines.pool import EnginePool
    from multitrans.pipeline.segment import segment_block

    clean, _ = norwegian_batch
    archive, out = tmp_path / "archive", tmp_path / "out"
    shutil.copytree(norwegian_archive, archive)
    shutil.copytree(clean, out)
    edited = archive / "2023" / "06" / "artikkel-017.txt"
    text = edited.read_text(encoding="utf-8")
    paragraphs = text.split("\n\n\u00a0\n\n")
    new_paragraph = ("Stortinget vedtok i går en ny lov om pressestøtte til lokalaviser. "
                     "Endringen trer i kraft fra nyttår, og redaksjonene må søke på nytt.")
    paragraphs[3] = new_paragraph
    edited.write_text("\n\n\u00a0\n\n".join(paragraphs), encoding="utf-8")
    before = stats(out)

    code, report, stderr = run_batch_cli(str(archive), "--to", "nn,da,sv", "--out", str(out), "--check")
    assert code == 1, stderr
    assert {s["output"] for s in report["stale"]} == {"nn/2023/06/artikkel-017.txt", "da/2023/06/artikkel-017.txt",
                                                     "sv/2023/06/artikkel-017.txt", "aligned/2023/06/artikkel-017.txt.jsonl"}
    assert report["stale_documents"] == ["2023/06/artikkel-017.txt"]

    sent: list[str] = []

    class CountingApertium(ApertiumEngine):
        def translate(self, segments, src, tgt, decoding=None):
            sent.extend(segments)
            if decoding is None:
                return super().translate(segments, src, tgt)
            return super().translate(segments, src, tgt, decoding)

    def loader(spec, options):
        return CountingApertium(spec, options) if spec.engine == "apertium" else load_engine(spec, options)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    options = EngineOptions(offline=True)
    summary = run_batch(archive, ["nn", "da", "sv"], out, options=options, pool=EnginePool(options, loader))
    assert (summary.done, summary.skipped, summary.failed) == (1, 199, [])
    sentences = [p.text for p in segment_block(new_paragraph, "nb", ()) if p.translate]
    assert len(sentences) == 2
    assert sent and all(any(s in sentence for sentence in sentences) for s in sent), sent
    assert sorted(sent[:6]) == sorted(sentences * 3)  # each new sentence once per target language
    after = stats(out)
    assert {p for p in after if after[p] != before[p]} == {"nn/2023/06/artikkel-017.txt", "da/2023/06/artikkel-017.txt",
                                                          "sv/2023/06/artikkel-017.txt",
                                                          "aligned/2023/06/artikkel-017.txt.jsonl"}
    assert "ei ny lov om pressestøtte" in (out / "nn" / "2023" / "06" / "artikkel-017.txt").read_text(encoding="utf-8")
    code, _, stderr = run_batch_cli(str(archive), "--to", "nn,da,sv", "--out", str(out), "--check")
    assert code == 0, stderr


@needs_apertium
def test_cli_reports_a_failed_document_and_exits_1(tmp_path, article):
    archive = tmp_path / "archive"
    write(archive / "ok.txt", "Det er ikke noe problem for oss å få det til i år.\n")
    (archive / "bad.txt").write_bytes(b"\xff\xfe\x00garbage\n")
    code, summary, stderr = run_batch_cli(str(archive), "--to", "nn", "--out", str(tmp_path / "out"))
    assert code == 1
    assert summary["done"] == 1 and [f["document"] for f in summary["failed"]] == ["bad.txt"]
    assert "bad.txt" in stderr and "Traceback" not in stderr
    assert "ikkje" in (tmp_path / "out" / "nn" / "ok.txt").read_text(encoding="utf-8")
    human = subprocess.run([sys.executable, "-m", "multitrans", "batch", str(archive), "--to", "nn", "--out",
                            str(tmp_path / "out"), "--offline"], capture_output=True, text=True,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert human.returncode == 1
    assert "batch summary" in human.stdout and "1 skipped (current), 1 failed" in human.stdout


def test_progress_is_reported_and_a_killed_jobs_leftovers_are_cleared(tmp_path):
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    torn = write(out / "de" / "2023" / ".a.txt.k3x_9qzl.tmp", "half a fil")
    mine = write(out / "de" / "2023" / ".notes.tmp", "not ours")
    events = []
    summary, _ = batch(archive, out, on_progress=events.append)
    assert not torn.exists() and mine.exists()
    assert events and events[-1].documents_done == events[-1].documents_total == 3
    assert events[-1].translated == summary.segments_translated and events[-1].eta == 0


def test_the_manifest_replays_the_journal_of_a_killed_job(tmp_path):
    from multitrans.archive.manifest import Manifest

    state = tmp_path / ".multitrans"
    manifest = Manifest(state)
    manifest.record("a.txt", {"source": "1", "options": {}, "outputs": {}})
    manifest.close()
    with open(state / "manifest.journal", "a", encoding="utf-8") as journal:
        journal.write('{"source": "b.txt", "entr')  # the line being written when the job was killed
    again = Manifest(state)
    assert set(again.documents) == {"a.txt"}
    again.save()
    assert not (state / "manifest.journal").exists()
    assert set(Manifest(state).documents) == {"a.txt"}


def test_archive_files_are_vetted_like_translate_inputs(tmp_path):
    """A byte-order mark is read and dropped; an empty or binary file is one line in the summary."""
    archive, out = small_archive(tmp_path / "archive"), tmp_path / "out"
    (archive / "bom.txt").write_bytes(b"\xef\xbb\xbf" + "Kongen har bedt om mer ammunisjon.\n".encode("utf-8"))
    (archive / "empty.txt").write_bytes(b"")
    (archive / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    registry, pool, _ = recording_setup()
    summary = run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian())
    errors = {f["document"]: f["error"] for f in summary.failed}
    assert set(errors) == {"empty.txt", "image.txt"}
    assert "is empty" in errors["empty.txt"] and "a PNG image, not text" in errors["image.txt"]
    translated = (out / "de" / "bom.txt").read_text(encoding="utf-8")
    assert not translated.startswith("\ufeff") and translated.endswith("\n")
