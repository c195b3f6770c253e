"""Runs a plan's tasks through their engines, guarding against truncation and mangled spans.

Before a model sees a sentence, one longer than the model's input limit is cut at
clause or word boundaries (and joined back after).  After, every protected span
(URL, number, markup) must be in the output; where the model dropped or changed
one, the text around each span is translated on its own and the span put back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .engines.base import Engine
from .plan import Plan, TaskKey
from .segment import Piece, spans_intact, split_around_spans, split_long

Progress = Callable[[int], None]
CHUNK = 64  # sentences per engine call, so progress moves and a failure stays local


@dataclass
class RunResult:
    translations: dict[TaskKey, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    span_repairs: int = 0


def run_plan(plan: Plan, engines: dict[str, Engine], on_progress: Progress | None = None) -> RunResult:
    result = RunResult()
    for engine_name, pairs in plan.tasks.items():
        engine = engines[engine_name]
        for (src, tgt), texts in pairs.items():
            try:
                done = _translate_pair(engine, texts, src, tgt, on_progress, result)
            except Exception as exc:  # one failing model or pair must not sink the other languages
                result.problems.append(f"{engine_name} failed on {src}→{tgt}: {exc}; those sentences were kept untranslated")
                continue
            for text, translation in done.items():
                result.translations[(engine_name, src, tgt, text)] = translation
    return result


def _translate_pair(
    engine: Engine, texts: dict[str, tuple[str, ...]], src: str, tgt: str,
    on_progress: Progress | None, result: RunResult,
) -> dict[str, str]:
    pieces = _fit_to_limit(engine, list(texts))
    out = _translate_pieces(engine, pieces, src, tgt, on_progress)
    broken = [t for t in texts if not spans_intact(out[t], texts[t])]
    if broken:
        result.span_repairs += len(broken)
        around = {t: split_around_spans(t, texts[t]) for t in broken}
        repaired = _translate_pieces(engine, around, src, tgt, None)
        out.update(repaired)
    return out


def _fit_to_limit(engine: Engine, texts: list[str]) -> dict[str, list[Piece]]:
    limit = engine.max_input_tokens
    if not limit:
        return {t: [Piece(t, True)] for t in texts}
    lengths = engine.count_tokens(texts)
    return {t: (split_long(t, limit, engine.count_tokens) if n > limit else [Piece(t, True)]) for t, n in zip(texts, lengths)}


def _translate_pieces(
    engine: Engine, pieces: dict[str, list[Piece]], src: str, tgt: str, on_progress: Progress | None,
) -> dict[str, str]:
    """Translate every translatable piece once, then join each text's pieces back in order."""
    unique = list(dict.fromkeys(p.text for parts in pieces.values() for p in parts if p.translate))
    done: dict[str, str] = {}
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        translated = engine.translate(chunk, src, tgt)
        if len(translated) != len(chunk):
            raise RuntimeError(f"engine returned {len(translated)} translations for {len(chunk)} sentences")
        done.update(zip(chunk, translated))
        if on_progress:
            on_progress(len(chunk))
    return {text: "".join(done[p.text] if p.translate else p.text for p in parts) for text, parts in pieces.items()}


def progress_total(plan: Plan) -> int:
    """Sentences the plan sends to engines (the progress bar's length)."""
    return plan.task_count
