"""The null-flush pipeline on plain stages: answers in step, no deadlock on big requests,
a clear failure when a stage dies or stalls, and no process left behind."""

from __future__ import annotations

import gc
import os
import signal
import time

import pytest

from multitrans.engines.nullflush import NullFlushPipeline, PipelineFailed

ENV = dict(os.environ)
CAT = ["cat"]


def _gone(pids: list[int]) -> bool:
    """Whether none of `pids` is still running (a zombie awaiting its parent counts as gone)."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return False
        except OSError:
            continue
    return True


def test_request_after_request_in_the_same_processes():
    pipeline = NullFlushPipeline([CAT, CAT, CAT], ENV)
    pids = pipeline.pids
    assert pipeline.ask(b"one\0", 10) == b"one\0"
    assert pipeline.ask(b"two\0three\0", 10) == b"two\0three\0"
    assert pipeline.pids == pids and pipeline.alive
    pipeline.close()
    assert not pipeline.alive and _gone(pids)


def test_a_request_bigger_than_the_pipes_does_not_deadlock():
    pipeline = NullFlushPipeline([CAT, CAT], ENV)
    request = b"x" * (8 << 20) + b"\0"
    assert pipeline.ask(request, 60) == request
    pipeline.close()


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_a_killed_stage_is_named_with_its_signal_at_once(stage):
    """Also a middle stage whose neighbours before it sit idle: its death must end the request
    at once (through a shell, which kept the output open, it waited for the deadline)."""
    pipeline = NullFlushPipeline([CAT, ["dd", "bs=1", "status=none"], CAT], ENV)
    assert pipeline.ask(b"ax\0", 10) == b"ax\0"
    os.kill(pipeline.pids[stage], signal.SIGKILL)
    time.sleep(0.1)
    started = time.monotonic()
    name = ["cat", "dd", "cat"][stage]
    with pytest.raises(PipelineFailed, match=rf"killed by signal 9 \(SIGKILL\) in {name}"):
        pipeline.ask(b"hello\0", 30)
    assert time.monotonic() - started < 10
    assert not pipeline.alive and _gone(pipeline.pids)
    with pytest.raises(PipelineFailed, match="SIGKILL"):
        pipeline.ask(b"again\0", 10)


def test_a_stage_killed_in_the_middle_of_a_request():
    pipeline = NullFlushPipeline([CAT, ["bash", "-c", "head -c 2; kill -9 $$"], CAT], ENV)
    with pytest.raises(PipelineFailed, match=r"killed by signal 9 \(SIGKILL\) in bash"):
        pipeline.ask(b"hello\0", 10)
    assert _gone(pipeline.pids)


def test_a_stage_that_fails_names_its_error_output():
    pipeline = NullFlushPipeline([CAT, ["bash", "-c", "echo 'cannot open nob-nno.automorf.bin' >&2; exit 3"]], ENV)
    with pytest.raises(PipelineFailed, match=r"failed \(bash exit 3\): cannot open nob-nno.automorf.bin"):
        pipeline.ask(b"hello\0", 10)


def test_a_stalled_pipeline_is_killed_at_the_deadline():
    pipeline = NullFlushPipeline([CAT, ["sleep", "60"]], ENV)
    started = time.monotonic()
    with pytest.raises(PipelineFailed, match="did not finish within 0.5 s"):
        pipeline.ask(b"hello\0", 0.5)
    assert time.monotonic() - started < 5
    assert not pipeline.alive and _gone(pipeline.pids)


def test_a_stage_left_running_after_close_is_killed(monkeypatch):
    monkeypatch.setattr("multitrans.engines.nullflush._GRACE_S", 0.2)
    pipeline = NullFlushPipeline([["bash", "-c", "cat; sleep 60"]], ENV)
    assert pipeline.ask(b"a\0", 10) == b"a\0"
    pipeline.close()
    assert _gone(pipeline.pids)


def test_a_forgotten_pipeline_leaves_no_process():
    pipeline = NullFlushPipeline([CAT, CAT], ENV)
    pids = pipeline.pids
    del pipeline
    gc.collect()
    assert _gone(pids)


def test_a_stage_that_cannot_start_leaves_none_running():
    with pytest.raises(OSError):
        NullFlushPipeline([CAT, ["/nonexistent/lt-proc"]], ENV)
