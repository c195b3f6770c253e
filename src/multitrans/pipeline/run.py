"""Runs a plan's tasks through their engines: the one path from pieces of text to joined translations.

Each engine gets its whole job in one `translate_multi` call: every sentence of every
language pair routed to it, so it can sort all of them by length and cut batches by a
token budget (an NLLB batch mixes target languages).  Should that call fail, each pair is
retried on its own, so one failing pair does not sink the other languages; what still
fails is returned as data (`Failure`), for repair to retry and report.

`translate_pieces` is the one way text reaches an engine, for the first attempt here and
for every retry in repair.py: a piece longer than the model's input limit is cut at
clause or word boundaries first, every distinct piece is translated once, and each
text's pieces are joined back in order.  Checking the output (protected spans, terms,
flags) is repair's job, done once, after this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..document import Piece
from ..engines.base import Decoding, Engine, expect_count
from ..engines.pivot import PivotEngine, prefetch
from .plan import Plan, TaskKey
from .segment import split_long

Progress = Callable[[int], None]
Pair = tuple[str, str]
Job = tuple[str, str, str]  # (src, tgt, source sentence): one sentence of one pair
T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """An engine failed on a whole language pair; its sentences have no translation yet."""

    engine: str  # the model's name in models.yaml
    src: str
    tgt: str
    error: Exception


@dataclass
class RunResult:
    translations: dict[TaskKey, str] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def run_plan(plan: Plan, engines: Mapping[str, Engine], on_progress: Progress | None = None) -> RunResult:
    """The first attempt at every task of the plan, one job per engine (pivots' first hops: one job
    per first-hop engine, for all their targets and documents, before the pivots run)."""
    result = RunResult()
    _first_hops(plan, engines)
    for name, pairs in plan.tasks.items():
        jobs = {(src, tgt, text): [Piece(text, True)] for (src, tgt), texts in pairs.items() for text in texts}
        reported, calls = 0, 0

        def progress(n: int) -> None:
            nonlocal reported
            reported += n
            if on_progress:
                on_progress(n)

        def attempt(some: Mapping[Job, list[Piece]], engine: Engine = engines[name]) -> dict[Job, str]:
            nonlocal calls
            calls += 1  # only the whole job moves the bar: pairs retried after it are not counted twice
            return translate_pieces(engine, some, on_progress=progress if calls == 1 else None)

        done, failed = by_pair(attempt, jobs)
        if on_progress and len(jobs) > reported:  # the bar ends full
            on_progress(len(jobs) - reported)
        result.translations.update(((name, *job), text) for job, text in done.items())
        result.failures.extend(Failure(name, src, tgt, exc) for (src, tgt), exc in failed.items())
    return result


def _first_hops(plan: Plan, engines: Mapping[str, Engine]) -> None:
    """Every pivot's first hop at once, cut to the input limit as its own job will cut it."""
    pivots = []
    for name, pairs in plan.tasks.items():
        engine = engines[name]
        if isinstance(engine, PivotEngine):
            jobs = {(src, tgt, text): [Piece(text, True)] for (src, tgt), texts in pairs.items() for text in texts}
            fitted = _fit_to_limit(engine, jobs)
            pivots.append((engine, [(p.text, job[0]) for job, parts in fitted.items() for p in parts if p.translate]))
    if pivots:
        prefetch(pivots)


def by_pair(
    translate: Callable[[Mapping[Job, T]], dict[Job, str]], jobs: Mapping[Job, T],
) -> tuple[dict[Job, str], dict[Pair, Exception]]:
    """All pairs in one call; should that fail, pair by pair, so one pair's failure stays its own.
    Returns the translations and, per pair that failed, why."""
    pairs = list(dict.fromkeys(job[:2] for job in jobs))
    try:
        return translate(jobs), {}
    except Exception as exc:  # noqa: BLE001 - narrowed down below, returned to the caller
        if len(pairs) == 1:
            return {}, {pairs[0]: exc}
    outputs: dict[Job, str] = {}
    failed: dict[Pair, Exception] = {}
    for pair in pairs:
        try:
            outputs.update(translate({job: v for job, v in jobs.items() if job[:2] == pair}))
        except Exception as exc:  # noqa: BLE001
            failed[pair] = exc
    return outputs, failed


def translate_pieces(
    engine: Engine,
    pieces: Mapping[Job, Sequence[Piece]],
    *,
    decoding: Decoding | None = None,
    replace: Mapping[Job, Mapping[str, str]] | None = None,
    on_progress: Progress | None = None,
) -> dict[Job, str]:
    """Translate every translatable piece of every job once, in one engine job, and join each job's
    pieces back in order; an untranslated piece passes as it is, or as `replace[job]` says (a fixed
    glossary term in place of its source term)."""
    pieces = _fit_to_limit(engine, pieces)
    rows = list(dict.fromkeys((p.text, src, tgt) for (src, tgt, _), parts in pieces.items() for p in parts if p.translate))
    translated = expect_count(engine.translate_multi(rows, on_progress, decoding=decoding), len(rows)) if rows else []
    done = dict(zip(rows, translated))
    replace = replace or {}
    return {
        job: "".join(done[(p.text, job[0], job[1])] if p.translate else replace.get(job, {}).get(p.text, p.text)
                     for p in parts)
        for job, parts in pieces.items()
    }


def _fit_to_limit(engine: Engine, pieces: Mapping[Job, Sequence[Piece]]) -> Mapping[Job, Sequence[Piece]]:
    """Pieces longer than the model's input limit cut at clause or word boundaries; each distinct
    text is counted and cut once, for every pair it occurs in."""
    limit = engine.max_input_tokens
    if not limit:
        return pieces
    texts = sorted({p.text for parts in pieces.values() for p in parts if p.translate})
    long = {t for t, n in zip(texts, engine.count_tokens(texts) if texts else []) if n > limit}
    if not long:
        return pieces
    cuts = {text: split_long(text, limit, engine.count_tokens) for text in sorted(long)}
    return {job: [q for p in parts for q in (cuts[p.text] if p.translate and p.text in long else [p])]
            for job, parts in pieces.items()}
