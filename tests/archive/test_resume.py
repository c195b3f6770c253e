"""A batch job killed mid-run (SIGKILL, for real) and run again ends exactly like an uninterrupted one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import batch_succeeded, output_files as files, run_batch_cli

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")]


def memory_rows(out: Path) -> dict[bytes, tuple]:
    with sqlite3.connect(out / ".multitrans" / "memory.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute("SELECT key, source, translation, flags, attempt, created FROM segments")}


def finished_documents(out: Path) -> set[str]:
    """Documents the killed job had recorded as finished (its manifest journal)."""
    journal = out / ".multitrans" / "manifest.journal"
    done = set()
    for line in journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []:
        try:
            done.add(json.loads(line)["source"])
        except ValueError:
            pass
    return done


def test_killed_mid_run_then_rerun_gives_the_clean_run_files(norwegian_archive, norwegian_batch, tmp_path):
    clean, clean_summary = norwegian_batch
    out = tmp_path / "out"
    job = subprocess.Popen(
        [sys.executable, "-m", "multitrans", "batch", str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out),
         "--offline"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        deadline = time.monotonic() + 300
        while not finished_documents(out):  # wait until some documents are finished, then kill at once
            assert job.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "no document finished within 5 minutes"
            time.sleep(0.05)
    finally:
        os.killpg(job.pid, signal.SIGKILL)  # the driver and its worker processes, mid-run
        job.wait()
    killed_at = time.time()

    finished = finished_documents(out)
    assert 0 < len(finished) < 200, len(finished)
    remembered = memory_rows(out)
    assert remembered, "finished groups' sentences are in the memory"
    kept = {}
    for document in finished:  # what the killed job had finished: these files must never be rewritten
        for prefix in ("nn/", "da/", "sv/"):
            path = out / f"{prefix}{document}"
            kept[path] = (path.stat().st_ino, path.stat().st_mtime_ns)
    assert len(files(out)) < 800

    code, summary, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out))
    assert batch_succeeded(code, summary), stderr
    assert summary["skipped"] == len(finished) and summary["done"] == 200 - len(finished)
    assert summary["segments_translated"] < clean_summary["segments_translated"]  # finished work was not redone
    assert files(out) == files(clean)  # byte for byte
    for path, stat in kept.items():
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stat, path
    after = memory_rows(out)
    assert all(after[key] == row for key, row in remembered.items())  # no finished segment lost or redone
    assert {key: row[:4] for key, row in after.items()} == {key: row[:4] for key, row in memory_rows(clean).items()}
    assert not (out / ".multitrans" / "manifest.journal").exists()
    assert killed_at < time.time()

    code, again, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out), "--check")
    assert code == 0, stderr
