"""Apertium: rule-based translation between closely related languages, fully offline.

Runs the `apertium` program (Debian packages apertium, apertium-nno-nob,
apertium-dan-nor, apertium-swe-nor).  All segments of a call go through one
process, each as its own HTML paragraph: with one segment per plain-text line, Apertium's
transfer rules move words across line ends (nob-dan turned "Løpende våpenavtaler" and
the next line "FNs sikkerhetsråd" into "våbenaftaler FNs sikkerhedsråd" and "Endvidere"),
so a segment's translation depended on its neighbours in the call; a block-level tag is a
boundary nothing crosses.  Unknown-word marks (`*Najin`) are dropped with -u;
the `#` and `@` marks Apertium puts on words it could not generate or transfer are
removed too unless the source itself had them.
"""

from __future__ import annotations

import html
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from functools import cached_property

from ..languages import apertium_mode
from .base import Decoding, Engine, EngineError, ModelUnavailable

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MARKS = re.compile(r"(?<![\w#@])[#@](?=\w)")
INSTALL_HINT = "install it with: apt-get install apertium apertium-nno-nob apertium-dan-nor apertium-swe-nor"


class ApertiumEngine(Engine):
    keeps_acronyms = True
    # Each call starts the Apertium pipeline (about 0.6 s): in calls of 64 rows, 20,000 one-line
    # paragraphs paid that 313 times, three minutes.  One call per 4,000 rows still shows progress.
    multi_chunk = 4000

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
        try:
            result = subprocess.run(
                [self._program, "-u", "-f", "html-noent", mode],
                input=text, capture_output=True, text=True, check=False, timeout=600,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"apertium {mode} did not finish within 10 minutes") from exc
        if result.returncode != 0:
            code = result.returncode
            # A negative code is a signal: the process was killed (OOM killer, a crash), not an answer.
            how = f"was killed by signal {-code} ({_signal_name(-code)})" if code < 0 else f"failed (exit {code})"
            detail = result.stderr.strip()[:300]
            raise EngineError(f"apertium {mode} {how}" + (f": {detail}" if detail else ""))
        return result.stdout

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


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"
