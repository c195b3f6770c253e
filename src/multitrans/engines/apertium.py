"""Apertium: rule-based translation between closely related languages, fully offline.

Runs Apertium (Debian packages apertium, apertium-nno-nob, apertium-dan-nor,
apertium-swe-nor).  All segments of a call go through the pipeline together, each as its own
HTML paragraph: with one segment per plain-text line, Apertium's
transfer rules move words across line ends (nob-dan turned "Løpende våpenavtaler" and
the next line "FNs sikkerhetsråd" into "våbenaftaler FNs sikkerhedsråd" and "Endvidere"),
so a segment's translation depended on its neighbours in the call; a block-level tag is a
boundary nothing crosses.  Unknown-word marks (`*Najin`) are dropped with -u;
the `#` and `@` marks Apertium puts on words it could not generate or transfer are
removed too unless the source itself had them.

Starting a mode's pipeline costs 0.4–0.55 s (it loads about twenty transducers and grammars),
so each mode's pipeline is started once per engine and kept in null-flush mode
(engines/nullflush.py); only the cheap HTML deformatter and reformatter run per call, the same
ones `apertium -u -f html-noent MODE` runs (Transfuse's tf-extract/tf-inject where it is
installed, as the `apertium` script chooses, else apertium-deshtml/apertium-rehtml-noent), so
the output is byte for byte what that command gives.  Where Apertium is too old for that
(no `apertium-wblank-mode`), or models.yaml sets `persistent: false`, every call runs that
command instead.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from ..languages import apertium_mode
from .base import Decoding, Engine, EngineError, EngineOptions, ModelSpec, ModelUnavailable
from .nullflush import NullFlushPipeline, PipelineFailed, signal_name

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MARKS = re.compile(r"(?<![\w#@])[#@](?=\w)")
INSTALL_HINT = "install it with: apt-get install apertium apertium-nno-nob apertium-dan-nor apertium-swe-nor"
TIMEOUT_S = 600.0


class ApertiumEngine(Engine):
    keeps_acronyms = True
    # Each call runs the deformatter and reformatter (a few milliseconds), and, where there is no
    # null-flush pipeline, starts the whole Apertium pipeline (about 0.5 s).  One call per 4,000
    # rows keeps both small beside the translation and still shows progress.
    multi_chunk = 4000

    def __init__(self, spec: ModelSpec, options: EngineOptions) -> None:
        super().__init__(spec, options)
        self._pipelines: dict[str, NullFlushPipeline] = {}
        self._stages: dict[str, list[list[str]] | None] = {}  # mode -> its null-flush stages (None: not possible here)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return "apertium"

    @cached_property
    def _program(self) -> str:
        program = shutil.which(self.spec.options.get("program", "apertium"))
        if program is None:
            raise ModelUnavailable(f"the 'apertium' program is not installed; {INSTALL_HINT}")
        return program

    @cached_property
    def modes(self) -> frozenset[str]:
        """The translation directions installed on this machine (`apertium -l`)."""
        result = subprocess.run([self._program, "-l"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise EngineError(f"'apertium -l' failed: {result.stderr.strip() or result.returncode}")
        return frozenset(line.strip() for line in result.stdout.splitlines() if line.strip())

    def mode(self, src: str, tgt: str) -> str:
        """The Apertium mode for src→tgt, or ModelUnavailable naming what to install."""
        mode = apertium_mode(src, tgt)
        if mode is None or mode not in self.modes:
            raise ModelUnavailable(f"Apertium has no {src}→{tgt} translator installed ({INSTALL_HINT})")
        return mode

    def check(self, src: str, tgt: str) -> None:
        """Fail now, before any work is planned, when src→tgt cannot be served."""
        self.mode(src, tgt)

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        """Rule-based: there is no decoding to tune, so `decoding` is accepted and has no effect."""
        if not segments:
            return []
        mode = self.mode(src, tgt)
        lines = [s.replace("\n", " ") for s in segments]
        return [self._clean(t, s) for t, s in zip(self._translate_lines(mode, lines), lines)]

    def _translate_lines(self, mode: str, lines: list[str]) -> list[str]:
        """One call for all lines; where Apertium merged or split paragraphs, each half again,
        down to one line per call (a few calls for one odd line, not one call per line)."""
        translated = _paragraphs(self._run(mode, "".join(_paragraph(line) for line in lines)))
        if len(translated) == len(lines):
            return translated
        if len(lines) == 1:
            return ["".join(translated)]
        half = len(lines) // 2
        return self._translate_lines(mode, lines[:half]) + self._translate_lines(mode, lines[half:])

    def _run(self, mode: str, text: str) -> str:
        """Apertium's HTML for `text` (`<p>` paragraphs), as `apertium -u -f html-noent MODE` gives it."""
        with self._lock:
            if self._null_flush_stages(mode) is None:
                return self._run_once(mode, text)
            return self._run_persistent(mode, text)

    def _run_once(self, mode: str, text: str) -> str:
        try:
            result = subprocess.run(
                [self._program, "-u", "-f", "html-noent", mode],
                input=text, capture_output=True, text=True, check=False, timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"apertium {mode} did not finish within 10 minutes") from exc
        if result.returncode != 0:
            raise _failed(f"apertium {mode}", result.returncode, result.stderr)
        return result.stdout

    def _run_persistent(self, mode: str, text: str) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        with tempfile.TemporaryDirectory(prefix="multitrans-apertium-", dir=_memory_backed_dir()) as state:
            if self._transfuse:
                stream = self._format_tool(mode, ["tf-extract", "-f", "html", "-d", os.path.join(state, "tf")],
                                           text.encode("utf-8"), deadline)
            else:
                stream = self._format_tool(mode, ["apertium-deshtml"], text.encode("utf-8"), deadline)
            # The request must end with a NUL; one added here is not part of the answer.
            added = not stream.endswith(b"\0")
            answer = self._ask(mode, stream + b"\0" if added else stream, deadline)
            if added:
                answer = answer[:-1]
            reformat = ["tf-inject"] if self._transfuse else ["apertium-rehtml-noent"]
            return self._format_tool(mode, reformat, answer, deadline).decode("utf-8")

    def _ask(self, mode: str, stream: bytes, deadline: float) -> bytes:
        pipeline = self._pipelines.get(mode)
        if pipeline is None:
            stages = self._null_flush_stages(mode)
            assert stages is not None
            try:
                pipeline = NullFlushPipeline(stages, self._environment)
            except OSError as exc:
                raise EngineError(f"apertium {mode} could not start: {exc}") from exc
            self._pipelines[mode] = pipeline
        try:
            return pipeline.ask(stream, max(deadline - time.monotonic(), 0.001))
        except PipelineFailed as exc:
            del self._pipelines[mode]  # the next call starts a fresh one
            raise EngineError(f"apertium {mode} {exc}") from exc

    def _format_tool(self, mode: str, command: list[str], data: bytes, deadline: float) -> bytes:
        """Run a deformatter or reformatter (no linguistic data, a few milliseconds) on `data`."""
        try:
            result = subprocess.run(command, input=data, capture_output=True, check=False,
                                    env=self._environment, timeout=max(deadline - time.monotonic(), 0.001))
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"apertium {mode} did not finish within 10 minutes") from exc
        if result.returncode != 0:
            raise _failed(f"apertium {mode}: {command[0]}", result.returncode, result.stderr.decode("utf-8", "replace"))
        return result.stdout

    @cached_property
    def _environment(self) -> dict[str, str]:
        """What the `apertium` script gives its pipeline: its own directory first on PATH, a UTF-8 locale."""
        env = dict(os.environ)
        env["PATH"] = os.environ.get("APERTIUM_PATH", os.path.dirname(self._program)) + os.pathsep + env.get("PATH", "")
        env["LC_CTYPE"] = "C.UTF-8"
        return env

    @cached_property
    def _datadir(self) -> Path:
        """Where the `apertium` script looks for modes: $APERTIUM_DATADIR, else its install prefix's share/apertium."""
        configured = os.environ.get("APERTIUM_DATADIR")
        return Path(configured) if configured else Path(self._program).resolve().parent.parent / "share" / "apertium"

    @cached_property
    def _transfuse(self) -> bool:
        """Whether `apertium -f html-noent` would deformat with Transfuse (the script's own rule)."""
        path = self._environment["PATH"]
        found = shutil.which("tf-extract", path=path) is not None and shutil.which("tf-inject", path=path) is not None
        return found and os.environ.get("APERTIUM_TRANSFUSE") not in ("0", "no")

    def _null_flush_stages(self, mode: str) -> list[list[str]] | None:
        """The mode's pipeline with `-z` on every stage, one argv per stage, or None where this
        Apertium cannot run one (then every call runs the `apertium` script)."""
        if mode not in self._stages:
            self._stages[mode] = self._find_null_flush_stages(mode)
        return self._stages[mode]

    def _find_null_flush_stages(self, mode: str) -> list[list[str]] | None:
        if not self.spec.options.get("persistent", True) or os.environ.get("AP_SETVAR"):
            return None  # AP_SETVAR: the script wraps the pipeline in a filter this engine does not copy
        path = self._environment["PATH"]
        wblank = shutil.which("apertium-wblank-mode", path=path)
        mode_file = self._datadir / "modes" / f"{mode}.mode"
        if wblank is None or not mode_file.is_file():
            return None
        if os.environ.get("APERTIUM_TRANSFUSE") in ("1", "yes") and not self._transfuse:
            return None  # the script refuses to run; let it say so
        result = subprocess.run([wblank, "-z", str(mode_file)], capture_output=True, text=True, check=False,
                                env=self._environment)
        if result.returncode != 0:
            return None
        # $1 is the generator's option (-n: no unknown-word marks, what -u means), $2 the tagger's (none).
        return pipeline_stages(result.stdout, {"$1": "-n", "$2": None})

    def close(self) -> None:
        """End every pipeline this engine started (each closes at end-of-file on its stdin)."""
        with self._lock:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            pipeline.close()

    @staticmethod
    def _clean(translation: str, source: str) -> str:
        if "#" in source or "@" in source:
            return translation.strip()
        return _MARKS.sub("", translation).strip()


def _paragraph(text: str) -> str:
    """One segment as an HTML paragraph; `-f html-noent` leaves non-ASCII letters as they are."""
    return f"<p>{html.escape(text, quote=False)}</p>\n"


def _paragraphs(output: str) -> list[str]:
    return [html.unescape(match) for match in _PARAGRAPH.findall(output)]


def _failed(what: str, code: int, stderr: str) -> EngineError:
    # A negative code is a signal: the process was killed (OOM killer, a crash), not an answer.
    how = f"was killed by signal {-code} ({signal_name(-code)})" if code < 0 else f"failed (exit {code})"
    detail = stderr.strip()[:300]
    return EngineError(f"{what} {how}" + (f": {detail}" if detail else ""))


def _memory_backed_dir() -> str | None:
    """/dev/shm where there is one: Transfuse keeps a call's state in SQLite and syncs it to disk
    two dozen times, 0.1 s a call on a disk against a few milliseconds in memory."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def pipeline_stages(script: str, arguments: dict[str, str | None]) -> list[list[str]] | None:
    """The argv of each stage of a mode's shell pipeline (`a -x 'f' | b $1 'g'`), with its
    positional arguments put in (None drops one, as the shell drops an empty unquoted `$2`);
    None when the script holds any other shell syntax, which only a shell should read."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars="|&;<>()")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    try:
        for token in lexer:
            if token == "|":
                stages.append([])
            elif token in arguments:
                if arguments[token] is not None:
                    stages[-1].append(arguments[token])  # type: ignore[arg-type]
            elif any(c in token for c in "$`*?[~") or token.strip("|&;<>()") == "":
                return None
            else:
                stages[-1].append(token)
    except ValueError:  # an unclosed quote
        return None
    return stages if all(stages) else None
