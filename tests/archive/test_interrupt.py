"""Ctrl-C during `batch` ends the job within seconds, with a clear message, and a rerun
resumes where it stopped (issue 13, item 10).

The archive is built so that the job has two groups of very different sizes: a few small
articles (the first group, done quickly) and one long article (a group of its own, still
being translated by the second worker when the interrupt comes).  A driver that waited for
the groups in flight would sit out the long one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_batch_cli

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")]
ROOT = Path(__file__).resolve().parents[2]
PROMPT_S = 10.0


def _archive(root: Path) -> Path:
    lines = [line for line in (ROOT / "examples" / "em24-2023-10-16-nord-korea-ammunisjon.txt")
             .read_text(encoding="utf-8").splitlines() if len(line.split()) >= 6]
    for n in range(8):
        path = root / "a" / f"kort-{n}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(f"{line} ({n})" for line in lines[:6]) + "\n", encoding="utf-8")
    # About 60,000 characters: the job's group budget is then 50,000, so it is a group alone.
    long = [f"Del {n}: {line}" for n in range(40) for line in lines]
    (root / "z").mkdir(parents=True)
    (root / "z" / "lang.txt").write_text("\n\n".join(long) + "\n", encoding="utf-8")
    return root


def _recorded(journal: Path) -> int:
    """Documents the job has finished (one manifest journal line each)."""
    try:
        return journal.read_text(encoding="utf-8").count("\n")
    except FileNotFoundError:
        return 0


def test_ctrl_c_stops_batch_promptly_and_a_rerun_resumes(tmp_path):
    archive, out = _archive(tmp_path / "archive"), tmp_path / "out"
    command = [sys.executable, "-m", "multitrans", "batch", str(archive), "--to", "nn", "--out", str(out),
               "--offline", "--workers", "2"]
    # Its own process group, so that the interrupt reaches the driver and its workers together,
    # as Ctrl-C in a terminal does.
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True)
    try:
        journal = out / ".multitrans" / "manifest.journal"
        deadline = time.monotonic() + 600
        while _recorded(journal) < 8 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.poll() is None, "the job ended before it could be interrupted"
        assert _recorded(journal) == 8, "the first group never finished"
        interrupted = time.monotonic()
        os.killpg(job.pid, signal.SIGINT)
        _, stderr = job.communicate(timeout=120)
        took = time.monotonic() - interrupted
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    assert took < PROMPT_S, f"exited {took:.1f} s after Ctrl-C"
    assert job.returncode == 130
    assert "interrupted" in stderr and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    assert not (out / "nn" / "z" / "lang.txt").exists()

    code, summary, stderr = run_batch_cli(str(archive), "--to", "nn", "--out", str(out), "--workers", "2")
    assert code in (0, 1), stderr
    assert summary["skipped"] == 8 and summary["done"] == 1, json.dumps(summary)
    assert (out / "nn" / "z" / "lang.txt").is_file()
