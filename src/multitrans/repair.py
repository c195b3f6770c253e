"""Checking every translated segment, and retrying the ones that came out flagged.

Runs after `runner.run_plan`, on its translations (updated in place), before blocks are
assembled.  For each (engine, source language, target language):

1. Sentences the engine failed on (the runner keeps a whole pair untranslated when one
   call raises) are retried on the same engine in halves, so one poisoned sentence
   costs only itself; an engine that fails everything is given up on after a few calls.
2. Every translation must contain its required spans: the protected spans, the
   characters the model cannot represent, and the fixed glossary terms.  Where one is
   missing the text around it is translated on its own and it is put back (the fixed
   term in place of the source term), as the runner does for protected spans.  Then
   every translation is checked (`qa.Checker`).
3. A flagged sentence is retried once with safer decoding: beam search with a
   repetition penalty and no repeated trigrams where the engine can tune its decoding;
   cut into shorter pieces where it cannot (Apertium) or where the length was off; sent
   in sentence case when it is written in capitals (opus-mt loops on ALL-CAPS text);
   required spans and terms are enforced as in step 2.
   Where most of a pair's sentences are flagged the model fails the pair as such, and
   this step is skipped: beam search costs a lot and cannot teach a model a language.
4. What is still flagged, or still failed, goes to the next route models.yaml lists for
   the pair, if one can be loaded.

Of the attempts a sentence had, the first without flags is kept, else the one with the
fewest (the earliest on a tie); `Quality` records which attempt that was and the flags
that remain, so they stay visible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .engines.base import Decoding, Engine, EngineError
from .engines.pool import EnginePool
from .glossary import Glossary
from .plan import Plan, TaskKey
from .qa import FALLBACK, FIRST, SAFER, Checker, Flag, Quality, lost_spans, missing_terms
from .registry import Registry
from .runner import RunResult
from .segment import Piece, split_around_spans, split_long

SAFER_DECODING = Decoding(beam=4, repetition_penalty=1.3, no_repeat_ngram_size=3)
# When at least this share of a pair's sentences (and this many) come out flagged, the
# model fails the pair as such (it hardly knows the language): decoding will not fix that,
# so the retry goes straight to the next route instead of costing a beam search per sentence.
SYSTEMATIC_SHARE = 0.6
SYSTEMATIC_MIN = 8
CHUNK = 64  # sentences per engine call, as in the runner
_RUNNER_GAVE_UP = "; those sentences were kept untranslated"


@dataclass(frozen=True)
class _Needs:
    """What a sentence's translation must contain."""

    spans: tuple[str, ...]  # protected spans and unrepresentable characters, each as often as in the source
    terms: tuple[tuple[str, str], ...]  # (source term, required target term) per occurrence


def check_and_repair(
    plan: Plan,
    run: RunResult,
    pool: EnginePool,
    registry: Registry,
    checker: Checker,
    glossary: Glossary | None = None,
) -> Quality:
    """Check every translation of the plan, retry the flagged and the failed; updates
    `run.translations` and `run.problems`, returns the flags and attempts per task."""
    glossary = glossary or Glossary()
    quality = Quality({}, {})
    engines = pool.loaded
    for engine_name, src, tgt, texts in _pairs(plan):
        engine = engines.get(engine_name)
        if engine is None:
            continue
        _Pair(engine_name, engine, src, tgt, texts, run, pool, registry, checker, glossary, quality).repair()
    return quality


def _pairs(plan: Plan) -> Iterator[tuple[str, str, str, dict[str, tuple[str, ...]]]]:
    """(engine name, src, tgt, {sentence: protected spans}) for every pair the plan sends to an engine."""
    for engine_name, pairs in plan.tasks.items():
        for (src, tgt), texts in pairs.items():
            yield engine_name, src, tgt, texts


class _Pair:
    """The repair of one (engine, src, tgt): its sentences, their attempts and the verdict."""

    def __init__(
        self, engine_name: str, engine: Engine, src: str, tgt: str, texts: dict[str, tuple[str, ...]],
        run: RunResult, pool: EnginePool, registry: Registry, checker: Checker, glossary: Glossary, quality: Quality,
    ) -> None:
        self.name, self.engine, self.src, self.tgt = engine_name, engine, src, tgt
        self.run, self.pool, self.registry, self.checker, self.quality = run, pool, registry, checker, quality
        self.protected = texts
        self.terms = {text: tuple(glossary.fixed_terms(text, tgt)) for text in texts}
        self.needs = {text: self.needs_for(engine, text) for text in texts}
        # best so far per sentence: (text, flags, attempt)
        self.best: dict[str, tuple[str, tuple[Flag, ...], str]] = {}

    def key(self, text: str) -> TaskKey:
        return (self.name, self.src, self.tgt, text)

    def repair(self) -> None:
        failed = [t for t in self.needs if self.key(t) not in self.run.translations]
        first = {t: self.run.translations[self.key(t)] for t in self.needs if t not in failed}
        for text, output in {**first, **self.enforce(first)}.items():
            self.offer(text, output, FIRST)
        if failed:
            rescued = self.isolate(failed)
            for text, output in rescued.items():
                self.offer(text, output, FIRST)
        flagged = [t for t, (_, flags, _) in self.best.items() if flags]
        self.quality.retried += len(flagged)
        if flagged and not _systematic(len(flagged), len(self.best)):
            self.attempt_safer(flagged)
        rest = [t for t in self.needs if t not in self.best or self.best[t][1]]
        if rest:
            self.attempt_fallback(rest)
        for text, (output, flags, attempt) in self.best.items():
            key = self.key(text)
            self.run.translations[key] = output
            if flags:
                self.quality.flags[key] = flags
            if attempt != FIRST:
                self.quality.attempts[key] = attempt
        if failed:
            self.report_failure(failed)

    # --- attempts ---------------------------------------------------------------------------

    def needs_for(self, engine: Engine, text: str) -> _Needs:
        """What `text`'s translation by `engine` must contain: its protected spans, the characters
        this model cannot represent (each as often as it occurs), and the fixed glossary terms."""
        spans = self.protected[text]
        inside = "".join(spans)
        unknown = tuple(c for c in sorted(engine.unknown_characters(text)) if c not in inside for _ in range(text.count(c)))
        return _Needs(tuple(spans) + unknown, self.terms[text])

    def offer(self, text: str, output: str, attempt: str, needs: _Needs | None = None) -> None:
        """Check an attempt's output; keep it when it has fewer flags than the best so far."""
        needs = needs or self.needs[text]
        flags = self.checker.check(text, output, self.src, self.tgt, needs.spans, needs.terms)
        if text not in self.best or len(flags) < len(self.best[text][1]):
            self.best[text] = (output, flags, attempt)

    def enforce(self, outputs: dict[str, str]) -> dict[str, str]:
        """Outputs that lack a required span or term, redone around them (the runner's span repair,
        extended to the characters this model cannot represent and to fixed glossary terms)."""
        lacking = {t: self.needs[t] for t, out in outputs.items()
                   if lost_spans(out, self.needs[t].spans) or missing_terms(out, self.needs[t].terms)}
        if not lacking:
            return {}
        try:
            return _join(self.engine, {t: _around(t, needs) for t, needs in lacking.items()}, self.src, self.tgt,
                         None, {term: required for needs in lacking.values() for term, required in needs.terms})
        except Exception:  # noqa: BLE001 - the outputs stand, flagged span_lost, and go on to the retries
            return {}

    def isolate(self, failed: list[str]) -> dict[str, str]:
        """Retry sentences the engine failed on, halving around failures: one bad sentence costs
        only itself.  An engine that fails every call is given up on after a few."""
        done: dict[str, str] = {}
        failures = 0
        budget = max(3, len(failed).bit_length() + 1)

        def attempt(batch: list[str]) -> None:
            nonlocal failures
            if not done and failures >= budget:
                return
            try:
                done.update(translate_guarded(self.engine, {t: self.needs[t] for t in batch}, self.src, self.tgt))
                return
            except Exception:  # noqa: BLE001 - any engine failure: narrow it down
                failures += 1
            if len(batch) > 1:
                middle = len(batch) // 2
                attempt(batch[:middle])
                attempt(batch[middle:])

        if len(failed) > 1:  # the runner already tried them all at once
            middle = len(failed) // 2
            attempt(failed[:middle])
            attempt(failed[middle:])
        else:
            attempt(failed)
        return done

    def attempt_safer(self, texts: list[str]) -> None:
        tunable = self.engine.tunable_decoding
        split = {t for t in texts if not tunable or any(f.code == "length_ratio" for f in self.best[t][1])}
        try:
            outputs = translate_guarded(self.engine, {t: self.needs[t] for t in texts}, self.src, self.tgt,
                                        decoding=SAFER_DECODING if tunable else None, split=split)
        except Exception as exc:  # noqa: BLE001 - a failed retry leaves the first attempt standing
            self.run.problems.append(f"{self.name} failed retrying {len(texts)} flagged sentence(s) "
                                     f"{self.src}→{self.tgt}: {exc}")
            return
        for text, output in outputs.items():
            self.offer(text, output, SAFER)

    def attempt_fallback(self, texts: list[str]) -> None:
        candidates = self.registry.candidates(self.src, self.tgt)
        names = [spec.name for spec in candidates]
        later = candidates[names.index(self.name) + 1 :] if self.name in names else [c for c in candidates if c.name != self.name]
        if not later:
            return
        try:
            engine, _ = self.pool.choose(later, self.src, self.tgt)
        except EngineError:
            return
        if engine is None:
            return  # no later route can run here (e.g. offline): the flags stay
        try:
            needs = {t: self.needs_for(engine, t) for t in texts}
            outputs = translate_guarded(engine, needs, self.src, self.tgt)
        except Exception as exc:  # noqa: BLE001
            self.run.problems.append(f"{engine.spec.name} failed as the fallback for {self.src}→{self.tgt}: {exc}")
            return
        for text, output in outputs.items():
            self.offer(text, output, f"{FALLBACK}:{engine.model_id}", needs[text])

    def report_failure(self, failed: list[str]) -> None:
        """Say what became of the sentences the runner reported kept untranslated."""
        still = sum(1 for t in failed if t not in self.best)
        by = Counter(self.best[t][2].split(":", 1)[1] for t in failed
                     if t in self.best and self.best[t][2].startswith(FALLBACK))
        via = "".join(f", {n} by the next route ({model})" for model, n in sorted(by.items()))
        outcome = (f"; retried: all {len(failed)} sentence(s) were translated{via}" if not still else
                   f"; retried: {still} of {len(failed)} sentence(s) kept untranslated{via}")
        prefix = f"{self.name} failed on {self.src}→{self.tgt}: "
        for i, problem in enumerate(self.run.problems):
            if problem.startswith(prefix) and problem.endswith(_RUNNER_GAVE_UP):
                self.run.problems[i] = problem[: -len(_RUNNER_GAVE_UP)] + outcome
                return
        self.run.problems.append(prefix.rstrip(": ") + outcome.replace("; ", ": ", 1))


def _systematic(flagged: int, total: int) -> bool:
    return flagged >= SYSTEMATIC_MIN and flagged >= SYSTEMATIC_SHARE * total


def translate_guarded(
    engine: Engine,
    texts: dict[str, _Needs],
    src: str,
    tgt: str,
    *,
    decoding: Decoding | None = None,
    split: set[str] | frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Translate each text so that nothing is lost: cut to the model's input limit (or into
    halves, for texts in `split`), send ALL-CAPS text in sentence case, and translate around
    any required span or term the output lacks, putting it back."""
    send = {text: (sentence_case(text, needs.spans) if is_all_caps(text, needs.spans) else text) for text, needs in texts.items()}
    pieces: dict[str, list[Piece]] = {}
    for text, sent in send.items():
        n = engine.count_tokens([sent])[0] if text in split else 0
        pieces[text] = split_long(sent, max(3, n // 2), engine.count_tokens) if n >= 6 else [Piece(sent, True)]
    out = _join(engine, pieces, src, tgt, decoding, {})
    for text, needs in texts.items():
        if text != send[text]:
            out[text] = upper_outside(out[text], needs.spans)
        if lost_spans(out[text], needs.spans) or missing_terms(out[text], needs.terms):
            around = _around(send[text], needs)
            joined = _join(engine, {text: around}, src, tgt, decoding, dict(needs.terms))[text]
            out[text] = upper_outside(joined, needs.spans) if text != send[text] else joined
    return out


def _join(
    engine: Engine, pieces: dict[str, list[Piece]], src: str, tgt: str, decoding: Decoding | None,
    replace: dict[str, str],
) -> dict[str, str]:
    """Translate every translatable piece once; join each text's pieces, fixed terms replaced.
    A piece longer than the model's input limit is cut first, as the runner does."""
    limit = engine.max_input_tokens
    if limit:
        runs = list(dict.fromkeys(p.text for parts in pieces.values() for p in parts if p.translate))
        long = {t for t, n in zip(runs, engine.count_tokens(runs) if runs else []) if n > limit}
        if long:
            pieces = {text: [q for p in parts for q in (split_long(p.text, limit, engine.count_tokens)
                                                      if p.translate and p.text in long else [p])]
                      for text, parts in pieces.items()}
    unique = list(dict.fromkeys(p.text for parts in pieces.values() for p in parts if p.translate))
    done: dict[str, str] = {}
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        if decoding is not None and engine.tunable_decoding:
            translated = engine.translate(chunk, src, tgt, decoding=decoding)
        else:
            translated = engine.translate(chunk, src, tgt)
        if len(translated) != len(chunk):
            raise EngineError(f"engine returned {len(translated)} translations for {len(chunk)} sentences")
        done.update(zip(chunk, translated))
    return {
        text: "".join(done[p.text] if p.translate else replace.get(p.text, p.text) for p in parts)
        for text, parts in pieces.items()
    }


def _around(text: str, needs: _Needs) -> list[Piece]:
    """The text as runs between its required spans and source terms, which pass untranslated."""
    wanted = list(needs.spans) + [term for term, _ in needs.terms]
    found: list[tuple[int, int]] = []
    for item in sorted(set(wanted), key=lambda w: (-len(w), w)):  # a fixed order: never set order
        start = text.find(item)
        while start >= 0:
            end = start + len(item)
            if all(end <= s or start >= e for s, e in found):
                found.append((start, end))
            start = text.find(item, start + 1)
    ordered = [text[s:e] for s, e in sorted(found)]
    return split_around_spans(text, ordered)


def is_all_caps(text: str, spans: Sequence[str] = ()) -> bool:
    """Written in capitals (a headline, a shouted quote): at least eight cased letters outside
    the protected spans, nine in ten of them upper case."""
    for span in spans:
        text = text.replace(span, " ")
    cased = [c for c in text if c.isupper() or c.islower()]
    return len(cased) >= 8 and sum(c.isupper() for c in cased) >= 0.9 * len(cased)


def sentence_case(text: str, spans: Sequence[str] = ()) -> str:
    """Lower-cased outside the protected spans, with the first letter kept upper case."""
    out = _outside(text, spans, str.lower)
    for i, char in enumerate(out):
        if char.isalpha():
            return out[:i] + char.upper() + out[i + 1 :]
    return out


def upper_outside(text: str, spans: Sequence[str] = ()) -> str:
    """Upper-cased outside the protected spans (a URL keeps its case)."""
    return _outside(text, spans, str.upper)


def _outside(text: str, spans: Sequence[str], change: Callable[[str], str]) -> str:
    found: list[tuple[int, int]] = []
    for span in sorted(set(spans), key=lambda w: (-len(w), w)):
        start = text.find(span)
        while start >= 0:
            end = start + len(span)
            if all(end <= s or start >= e for s, e in found):
                found.append((start, end))
            start = text.find(span, start + 1)
    out, cursor = [], 0
    for start, end in sorted(found):
        out.append(change(text[cursor:start]))
        out.append(text[start:end])
        cursor = end
    out.append(change(text[cursor:]))
    return "".join(out)
