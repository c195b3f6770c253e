"""Runs a plan's tasks through their engines, guarding against truncation and mangled spans.

Each engine gets its whole job in one `translate_multi` call: every sentence of every
language pair routed to it, so it can sort all of them by length and cut batches by a
token budget (an NLLB batch mixes target languages).  Should that call fail, each pair is
retried on its own, so one failing pair does not sink the other languages.

Before a model sees a sentence, one longer than the model's input limit is cut at
clause or word boundaries (and joined back after).  After, every protected span
(URL, number, markup) must be in the output; where the model dropped or changed
one, the text around each span is translated on its own and the span put back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..engines.base import Engine
from .plan import Plan, TaskKey
from .segment import Piece, spans_intact, split_around_spans, split_long

Progress = Callable[[int], None]
Pair = tuple[str, str]


@dataclass
class RunResult:
    translations: dict[TaskKey, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    span_repairs: int = 0


def run_plan(plan: Plan, engines: dict[str, Engine], on_progress: Progress | None = None) -> RunResult:
    result = RunResult()
    for engine_name, pairs in plan.tasks.items():
        done = _translate_job(engines[engine_name], engine_name, pairs, on_progress, result)
        for (src, tgt), translations in done.items():
            for text, translation in translations.items():
                result.translations[(engine_name, src, tgt, text)] = translation
    return result


def _translate_job(
    engine: Engine, engine_name: str, pairs: dict[Pair, dict[str, tuple[str, ...]]],
    on_progress: Progress | None, result: RunResult,
) -> dict[Pair, dict[str, str]]:
    """Every pair of one engine at once; pairs that fail are reported and left out."""
    failed: dict[Pair, Exception] = {}
    fitted: dict[Pair, dict[str, list[Piece]]] = {}
    try:
        lengths = _token_counts(engine, {text for texts in pairs.values() for text in texts})
    except Exception as exc:  # noqa: BLE001 - the engine cannot even tokenize: every pair fails alike
        failed = dict.fromkeys(pairs, exc)
    cuts: dict[str, list[Piece]] = {}  # an over-long text is cut once, for all its pairs
    for pair, texts in pairs.items():
        if pair not in failed:
            try:
                fitted[pair] = _fit_to_limit(engine, list(texts), lengths, cuts)
            except Exception as exc:  # noqa: BLE001
                failed[pair] = exc
    out, failed_now = _translate_pieces(engine, fitted, on_progress) if fitted else ({}, {})
    failed.update(failed_now)
    broken: dict[Pair, dict[str, list[Piece]]] = {}
    for pair, done in out.items():
        texts = pairs[pair]
        around = {t: split_around_spans(t, texts[t]) for t in texts if not spans_intact(done[t], texts[t])}
        if around:
            result.span_repairs += len(around)
            broken[pair] = around
    if broken:
        repaired, failed_again = _translate_pieces(engine, broken, None)
        for pair, done in repaired.items():
            out[pair].update(done)
        for pair, exc in failed_again.items():
            failed[pair] = exc
            del out[pair]
    for (src, tgt), exc in failed.items():  # one failing model or pair must not sink the other languages
        result.problems.append(f"{engine_name} failed on {src}→{tgt}: {exc}; those sentences were kept untranslated")
    return out


def _token_counts(engine: Engine, texts: set[str]) -> dict[str, int] | None:
    """Each distinct text's input length, counted once for all the pairs it occurs in."""
    if not engine.max_input_tokens or not texts:
        return None
    ordered = sorted(texts)
    return dict(zip(ordered, engine.count_tokens(ordered)))


def _fit_to_limit(
    engine: Engine, texts: list[str], lengths: dict[str, int] | None, cuts: dict[str, list[Piece]],
) -> dict[str, list[Piece]]:
    limit = engine.max_input_tokens
    if not limit or lengths is None:
        return {t: [Piece(t, True)] for t in texts}
    fitted = {}
    for text in texts:
        if lengths[text] <= limit:
            fitted[text] = [Piece(text, True)]
        else:
            if text not in cuts:
                cuts[text] = split_long(text, limit, engine.count_tokens)
            fitted[text] = cuts[text]
    return fitted


def _translate_pieces(
    engine: Engine, pieces: dict[Pair, dict[str, list[Piece]]], on_progress: Progress | None,
) -> tuple[dict[Pair, dict[str, str]], dict[Pair, Exception]]:
    """Translate every translatable piece of every pair once, in one job, then join each text's
    pieces back in order.  Returns the joined texts per pair and the pairs that failed."""
    rows: list[tuple[str, str, str]] = list(dict.fromkeys(
        (p.text, src, tgt) for (src, tgt), texts in pieces.items() for parts in texts.values() for p in parts if p.translate
    ))
    reported = 0

    def progress(n: int) -> None:
        nonlocal reported
        reported += n
        if on_progress:
            on_progress(n)

    failed: dict[Pair, Exception] = {}
    try:
        done = dict(zip(rows, _checked(engine.translate_multi(rows, progress), rows)))
    except Exception:  # isolate the failure: pair by pair, as if each had been the only one
        done = {}
        for pair in pieces:
            pair_rows = [row for row in rows if row[1:] == pair]
            try:
                done.update(zip(pair_rows, _checked(engine.translate_multi(pair_rows), pair_rows)))
            except Exception as exc:  # noqa: BLE001 - reported by the caller, per pair
                failed[pair] = exc
        if on_progress and len(rows) > reported:
            on_progress(len(rows) - reported)
    joined = {
        (src, tgt): {
            text: "".join(done[(p.text, src, tgt)] if p.translate else p.text for p in parts)
            for text, parts in texts.items()
        }
        for (src, tgt), texts in pieces.items()
        if (src, tgt) not in failed
    }
    return joined, failed


def _checked(translated: Sequence[str], rows: Sequence[tuple[str, str, str]]) -> Sequence[str]:
    if len(translated) != len(rows):
        raise RuntimeError(f"engine returned {len(translated)} translations for {len(rows)} sentences")
    return translated


def progress_total(plan: Plan) -> int:
    """Sentences the plan sends to engines (the progress bar's length)."""
    return plan.task_count
