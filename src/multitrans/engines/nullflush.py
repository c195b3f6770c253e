"""One long-running Apertium pipeline that answers request after request (null-flush mode).

Starting a mode's pipeline loads about twenty transducers and constraint grammars, 0.4–0.55 s
each time; with `-z` every stage flushes its output when it reads a NUL byte and passes the NUL
on, so a request is a stream holding n NULs and its answer is the output up to the n-th NUL.

The stages are started here, one process each, not through a shell: a shell keeps its own copy
of the pipeline's stdout while it waits for the stages, so when a middle stage died with the
stages before it idle, no end-of-file ever came and the request hung until its deadline.  Each
stage holds only its own pipe ends, so a dead stage ends the output at once, and the error
names it.  The processes belong to whoever started them: `close()` ends them, and so does
garbage collection or the interpreter's exit (`weakref.finalize`); if this process dies
without either, the first stage reads end-of-file and the others follow it.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence

_CHUNK = 1 << 16
_GRACE_S = 5.0  # how long stages whose input was closed may take to exit before they are killed


class PipelineFailed(Exception):
    """The pipeline died or ran out of time; the message says how (for the engine's EngineError)."""


class NullFlushPipeline:
    """Stages started once and chained stdout to stdin; `ask` writes a stream and reads back its answer."""

    def __init__(self, stages: Sequence[Sequence[str]], env: Mapping[str, str]) -> None:
        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        self._stderr = tempfile.TemporaryFile()
        self._failure: str | None = None
        processes: list[subprocess.Popen[bytes]] = []
        previous = subprocess.PIPE
        try:
            for argv in stages:
                # A session of its own: Ctrl-C in the terminal reaches this process only, which
                # then ends the pipeline itself (or leaves it to end at end-of-file).
                process = subprocess.Popen(list(argv), stdin=previous, stdout=subprocess.PIPE, stderr=self._stderr,
                                           env=dict(env), start_new_session=True)
                if processes:
                    assert processes[-1].stdout is not None
                    processes[-1].stdout.close()  # the next stage holds it now
                processes.append(process)
                previous = process.stdout  # type: ignore[assignment]
        except BaseException:
            _stop(processes, kill=True)
            self._stderr.close()
            raise
        self._processes = processes
        self._names = [os.path.basename(argv[0]) for argv in stages]
        self._finalizer = weakref.finalize(self, _stop, processes)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and all(process.poll() is None for process in self._processes)

    def ask(self, stream: bytes, timeout: float) -> bytes:
        """The pipeline's output for `stream`, through the NUL that answers its last NUL
        (`stream` must end with one).  On any failure the pipeline is stopped and
        PipelineFailed says why; it cannot be asked again."""
        if not stream.endswith(b"\0"):
            raise ValueError("a null-flush request must end with a NUL byte")
        if not self.alive:
            raise PipelineFailed(self._stop_and_describe())
        # Error output is kept per request, like a one-shot run's: warnings of earlier requests
        # would otherwise pile up for the whole run.  Every stage shares this file's offset.
        self._stderr.seek(0)
        self._stderr.truncate()
        try:
            received = self._exchange(stream, time.monotonic() + timeout)
        except PipelineFailed:
            raise
        except BaseException:
            # Ctrl-C mid-request: the answer still in the pipes would be read as the next one's.
            self._abandon("was interrupted in the middle of a request")
            raise
        if received is None:
            raise PipelineFailed(self._abandon(f"did not finish within {_duration(timeout)}"))
        if received.count(b"\0") != stream.count(b"\0") or not received.endswith(b"\0"):
            raise PipelineFailed(self._stop_and_describe("answered out of step with its input"))
        return received

    def close(self) -> None:
        """End the stages now.  `ask` returns only once its answer is read, so between requests
        the stages hold no work and are killed rather than left to end at end-of-file, which
        passes down some twenty stages one by one (0.17 s at the end of every run)."""
        if self._finalizer.detach() is not None:
            _stop(self._processes, kill=True)

    def _exchange(self, stream: bytes, deadline: float) -> bytes | None:
        """Write `stream` while reading the answer (a big request fills the pipes both ways);
        None when the deadline passes first."""
        stdin, stdout = self._processes[0].stdin, self._processes[-1].stdout
        assert stdin is not None and stdout is not None
        wanted = stream.count(b"\0")
        received: list[bytes] = []
        seen, sent = 0, 0
        os.set_blocking(stdin.fileno(), False)
        with selectors.DefaultSelector() as selector:
            selector.register(stdout.fileno(), selectors.EVENT_READ)
            selector.register(stdin.fileno(), selectors.EVENT_WRITE)
            while seen < wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                for key, _ in selector.select(remaining):
                    if key.fileobj == stdout.fileno():
                        chunk = os.read(stdout.fileno(), _CHUNK)
                        if not chunk:
                            raise PipelineFailed(self._stop_and_describe())
                        received.append(chunk)
                        seen += chunk.count(b"\0")
                    elif sent < len(stream):
                        try:
                            sent += os.write(stdin.fileno(), stream[sent : sent + _CHUNK])
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            sent = len(stream)  # the first stage died: end-of-file on stdout says how
                        if sent >= len(stream):
                            selector.unregister(stdin.fileno())
        return b"".join(received)

    def _abandon(self, why: str) -> str:
        """Kill every stage at once (no waiting for one that may be stuck) and remember why."""
        self._finalizer.detach()
        _stop(self._processes, kill=True)
        self._stderr.close()
        self._failure = why
        return why

    def _stop_and_describe(self, what: str = "") -> str:
        if self._failure is not None:
            return self._failure
        self._finalizer()
        self._stderr.seek(0)
        detail = self._stderr.read().decode("utf-8", "replace").strip()[-300:]
        self._stderr.close()
        self._failure = (what or self._how_it_ended()) + (f": {detail}" if detail else "")
        return self._failure

    def _how_it_ended(self) -> str:
        """The stage to blame: one killed by a signal (not the SIGPIPE that the stages before a
        dead one die of), else one that failed, else the pipeline just stopped."""
        ended = [(name, process.returncode) for name, process in zip(self._names, self._processes)]
        broken_pipe = -signal.SIGPIPE
        killed = [(name, -code) for name, code in ended if code is not None and code < 0 and code != broken_pipe]
        if killed:
            name, number = killed[0]
            return f"was killed by signal {number} ({signal_name(number)}) in {name}"
        failed = [(name, code) for name, code in ended if code and code != broken_pipe] or \
                 [(name, code) for name, code in ended if code]
        if failed:
            name, code = failed[0]
            return f"failed ({name} exit {code})"
        return "stopped before answering"


def _stop(processes: Sequence[subprocess.Popen[bytes]], kill: bool = False) -> None:
    """End the stages: end-of-file on the first one's input, then (unless `kill`) a few seconds
    for them to exit before those left are killed."""
    first = processes[0].stdin if processes else None
    if first is not None and not first.closed:
        try:
            first.close()
        except OSError:
            pass  # the first stage already died; the bytes it did not read are lost with it
    deadline = time.monotonic() + (0 if kill else _GRACE_S)
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if processes and processes[-1].stdout is not None:
        processes[-1].stdout.close()


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def _duration(seconds: float) -> str:
    return f"{round(seconds / 60):g} minutes" if seconds >= 60 else f"{seconds:g} s"
