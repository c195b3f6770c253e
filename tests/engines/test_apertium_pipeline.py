"""Apertium keeps one pipeline per mode for the whole run (issue 13, item 9): starting one
costs about half a second, which every call paid.  Its answers are byte for byte those of
`apertium -u -f html-noent MODE`, which stays the path where null-flush is not possible."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multitrans.engines import apertium as apertium_module
from multitrans.engines.apertium import ApertiumEngine, _paragraph, pipeline_stages
from multitrans.engines.base import EngineError, EngineOptions, ModelSpec

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")

ARTICLE = Path(__file__).parents[2] / "examples" / "em24-2023-10-16-nord-korea-ammunisjon.txt"
# Lines the deformatter must treat as text, and a neighbour pair the transfer rules once merged.
EXTRA = ["Se <b> & «dette» – A\u00a0B.", "Løpende våpenavtaler", "FNs sikkerhetsråd", "#1 @ja *Najin"]


def _engine(**options: object) -> ApertiumEngine:
    return ApertiumEngine(ModelSpec("apertium", "apertium", options=dict(options)), EngineOptions())


@pytest.fixture
def started(monkeypatch) -> list[list[str]]:
    """The argv of every process the engine starts."""
    calls: list[list[str]] = []
    real = subprocess.Popen

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):
            calls.append(list(args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    return calls


def _pipeline_starts(calls: list[list[str]]) -> int:
    return sum(1 for argv in calls if os.path.basename(argv[0]) == "lt-proc" and "-e" in argv)


@pytest.mark.parametrize("mode", ["nob-nno", pytest.param("nob-dan", marks=pytest.mark.slow),
                                  pytest.param("nob-swe", marks=pytest.mark.slow)])
def test_same_bytes_as_the_apertium_command(mode):
    lines = [line for line in ARTICLE.read_text(encoding="utf-8").splitlines() if line.strip()] + EXTRA
    text = "".join(_paragraph(line) for line in lines)
    engine = _engine()
    try:
        assert engine._null_flush_stages(mode) is not None
        once = _engine(persistent=False)._run(mode, text)
        assert engine._run(mode, text) == once
        assert engine._run(mode, text) == once  # and again, from the same pipeline
    finally:
        engine.close()


def test_calls_share_one_pipeline_per_mode(started):
    engine = _engine()
    try:
        first = engine.translate(["Det er ikke noe problem."], "nb", "nn")
        second = engine.translate(["Jeg vet ikke hva han sa.", "Containerne hadde blitt fraktet fra Najin."], "nb", "nn")
        assert first == ["Det er ikkje noko problem."] and "ikkje" in second[0] and "frå" in second[1]
        assert _pipeline_starts(started) == 1  # it was one per call
        assert not any("html-noent" in argv for argv in started)  # the one-shot command never ran
        engine.translate(["Jeg vet ikke hva han sa."], "nb", "da")
        assert _pipeline_starts(started) == 2  # one more for the second mode, none for the first
    finally:
        engine.close()


def test_close_ends_every_stage():
    engine = _engine()
    engine.translate(["Det er ikke noe problem."], "nb", "nn")
    engine.translate(["Det er ikke noe problem."], "nb", "sv")
    pids = [pid for pipeline in engine._pipelines.values() for pid in pipeline.pids]
    assert len(pids) > 20 and all(_running(pid) for pid in pids)
    engine.close()
    assert not any(_running(pid) for pid in pids)
    assert engine.translate(["Det er ikke noe problem."], "nb", "nn") == ["Det er ikkje noko problem."]  # starts anew
    engine.close()


def test_a_killed_stage_is_a_clear_error_and_the_next_call_starts_afresh():
    engine = _engine()
    try:
        engine.translate(["Det er ikke noe problem."], "nb", "nn")
        pipeline = engine._pipelines["nob-nno"]
        stage = pipeline.pids[len(pipeline.pids) // 2]
        os.kill(stage, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(EngineError, match=r"apertium nob-nno was killed by signal 9 \(SIGKILL\) in "):
            engine.translate(["Jeg vet ikke hva han sa."], "nb", "nn")
        assert time.monotonic() - started < 30  # not the 10-minute deadline
        assert not any(_running(pid) for pid in pipeline.pids)
        assert engine.translate(["Det er ikke noe problem."], "nb", "nn") == ["Det er ikkje noko problem."]
        assert engine._pipelines["nob-nno"] is not pipeline
    finally:
        engine.close()


def test_without_null_flush_each_call_runs_the_apertium_command(monkeypatch, started):
    """Older Apertium has no apertium-wblank-mode; `persistent: false` asks for the same path."""
    real_which = shutil.which
    monkeypatch.setattr(apertium_module.shutil, "which",
                        lambda name, *a, **k: None if name == "apertium-wblank-mode" else real_which(name, *a, **k))
    for engine in (_engine(), _engine(persistent=False)):
        assert engine.translate(["Det er ikke noe problem."], "nb", "nn") == ["Det er ikkje noko problem."]
        assert engine.translate(["Jeg vet ikke hva han sa."], "nb", "nn") == ["Eg veit ikkje kva han sa."]
        engine.close()
    assert _pipeline_starts(started) == 0
    assert sum(1 for argv in started if os.path.basename(argv[0]) == "apertium" and "html-noent" in argv) == 4


def test_pipeline_stages_read_only_plain_pipelines():
    assert pipeline_stages("lt-proc -z -w 'a b.bin' | lt-proc -z $1 -b 'g.bin' | tagger -g $2 p",
                           {"$1": "-n", "$2": None}) == [["lt-proc", "-z", "-w", "a b.bin"],
                                                         ["lt-proc", "-z", "-n", "-b", "g.bin"], ["tagger", "-g", "p"]]
    for script in ("a | b > out", "a || b", "a; b", "a $3", "a | ", "a 'unclosed", "a $(b)", "a *.bin"):
        assert pipeline_stages(script, {"$1": "-n"}) is None, script


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_forgotten_engine_leaves_no_pipeline():
    engine = _engine()
    engine.translate(["Det er ikke noe problem."], "nb", "nn")
    pids = engine._pipelines["nob-nno"].pids
    del engine
    gc.collect()
    assert not any(_running(pid) for pid in pids)


@pytest.mark.parametrize("ending", ["sys.exit(0)", "os._exit(0)", "os.kill(os.getpid(), signal.SIGKILL)"])
def test_a_process_that_ends_without_closing_leaves_no_pipeline(ending):
    """At exit the finalizer closes it; a process that dies outright (a killed archive worker)
    closes the first stage's input, and every stage ends at end-of-file."""
    child = subprocess.run([sys.executable, "-c", CHILD.format(ending=ending)], capture_output=True, text=True,
                           timeout=120, check=False)
    pids = [int(pid) for pid in child.stdout.split()]
    assert len(pids) > 20, child.stderr
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in pids)


CHILD = """
import os, signal, sys
from multitrans.engines.apertium import ApertiumEngine
from multitrans.engines.base import EngineOptions, ModelSpec
engine = ApertiumEngine(ModelSpec("apertium", "apertium"), EngineOptions())
engine.translate(["Det er ikke noe problem."], "nb", "nn")
print(*engine._pipelines["nob-nno"].pids, flush=True)
{ending}
"""
