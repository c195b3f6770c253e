"""Checking every translated segment, and retrying the ones that came out flagged.

Runs after `run.run_plan`, on its translations, before blocks are assembled; returns
the translations it settled on, with their flags and the problems to report.  For each (engine, source language, target language), with each step's retries
for all the pairs one engine served sent to it as one `translate_multi` job:

1. Sentences the engine failed on (the runner returns a whole pair as a `Failure` when
   one call raises) are retried on the same engine in halves, so one poisoned sentence
   costs only itself; an engine that fails everything is given up on after a few calls.
2. Every translation must contain its required spans: the protected spans, the
   characters the model cannot represent, and the fixed glossary terms.  Where one is
   missing the text around it is translated on its own and it is put back (the fixed
   term in place of the source term).  This is the one place spans are enforced.  Then
   every translation is checked (`quality.Checker`).
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..config.glossary import Glossary
from ..config.registry import Registry
from ..document import Flag, Piece
from ..engines.base import Decoding, Engine, EngineError
from ..engines.pool import EnginePool
from .plan import Plan, TaskKey
from .quality import (
    FALLBACK,
    FIRST,
    SAFER,
    Checker,
    Quality,
    ToCheck,
    lost_spans,
    missing_terms,
)
from .run import Failure, Job, Pair, RunResult, by_pair, translate_pieces
from .segment import split_around_spans, split_long

SAFER_DECODING = Decoding(beam=4, repetition_penalty=1.3, no_repeat_ngram_size=3)
# When at least this share of a pair's sentences (and this many) come out flagged, the
# model fails the pair as such (it hardly knows the language): decoding will not fix that,
# so the retry goes straight to the next route instead of costing a beam search per sentence.
SYSTEMATIC_SHARE = 0.6
SYSTEMATIC_MIN = 8


@dataclass(frozen=True)
class _Needs:
    """What a sentence's translation must contain."""

    spans: tuple[str, ...]  # protected spans and unrepresentable characters, each as often as in the source
    terms: tuple[tuple[str, str], ...]  # (source term, required target term) per occurrence


@dataclass
class Checked:
    """What checking and repair settled on: a translation per task (none where every attempt
    failed), the flags that remain and the attempt used, and the engine failures to report."""

    translations: dict[TaskKey, str] = field(default_factory=dict)
    quality: Quality = field(default_factory=lambda: Quality({}, {}))
    problems: list[str] = field(default_factory=list)


def check_and_repair(
    plan: Plan,
    run: RunResult,
    pool: EnginePool,
    registry: Registry,
    checker: Checker,
    glossary: Glossary | None = None,
) -> Checked:
    """Check every translation of the plan, retry the flagged and the failed."""
    glossary = glossary or Glossary()
    checked = Checked(dict(run.translations))
    failures = {(f.engine, f.src, f.tgt): f for f in run.failures}
    reports: list[str] = []  # the first attempt's failures, with what became of them, come first
    engines = pool.loaded
    for engine_name, pairs in plan.tasks.items():
        engine = engines.get(engine_name)
        if engine is None:
            continue
        repairs = [_Pair(engine_name, engine, src, tgt, texts, checked, failures.get((engine_name, src, tgt)),
                         pool, registry, checker, glossary)
                   for (src, tgt), texts in pairs.items()]
        _repair_engine(engine, repairs)
        reports += [report for pair in repairs if (report := pair.failure_report()) is not None]
    checked.problems[:0] = reports
    return checked


def _repair_engine(engine: Engine, pairs: list[_Pair]) -> None:
    """The steps for every pair one engine served.  Each step's retries, over all the pairs,
    go to an engine as one `translate_multi` job, as the runner's first attempt did: one
    document into twenty NLLB languages retries in a few shared batches, not twenty calls."""
    repairs = pairs_by(pairs)
    first: dict[Job, str] = {}
    for pair in pairs:
        first.update(pair.first_outputs())
    enforced = _enforce(engine, {job: repairs[job[:2]].needs[job[2]] for job in first}, first)
    _offer_all([_Offer(repairs[job[:2]], job[2], output, FIRST) for job, output in {**first, **enforced}.items()])
    _offer_all([_Offer(pair, text, output, FIRST)
                for pair in pairs if pair.failed for text, output in pair.isolate(pair.failed).items()])
    _attempt_safer(engine, pairs)
    _attempt_fallback(pairs)
    for pair in pairs:
        pair.finish()


def pairs_by(pairs: list[_Pair]) -> dict[Pair, _Pair]:
    """Each pair's repair by its (src, tgt): one engine serves a pair once."""
    return {(pair.src, pair.tgt): pair for pair in pairs}


def _enforce(engine: Engine, needs: dict[Job, _Needs], outputs: dict[Job, str]) -> dict[Job, str]:
    """Outputs that lack a required span or term, redone around them (the runner's span repair,
    extended to the characters this model cannot represent and to fixed glossary terms)."""
    lacking = {job: needs[job] for job, out in outputs.items()
               if lost_spans(out, needs[job].spans) or missing_terms(out, needs[job].terms)}
    if not lacking:
        return {}
    try:
        return translate_pieces(engine, {job: _around(job[2], n) for job, n in lacking.items()},
                                replace={job: dict(n.terms) for job, n in lacking.items()})
    except Exception:  # noqa: BLE001 - the outputs stand, flagged span_lost, and go on to the retries
        return {}


def _attempt_safer(engine: Engine, pairs: list[_Pair]) -> None:
    """Step 3 for every pair whose flags are not systematic, in one job."""
    tunable = engine.tunable_decoding
    needs: dict[Job, _Needs] = {}
    split: set[Job] = set()
    for pair in pairs:
        flagged = [t for t, (_, flags, _) in pair.best.items() if flags]
        pair.quality.retried += len(flagged)
        if not flagged or _systematic(len(flagged), len(pair.best)):
            continue
        for text in flagged:
            job = (pair.src, pair.tgt, text)
            needs[job] = pair.needs[text]
            if not tunable or any(f.code == "length_ratio" for f in pair.best[text][1]):
                split.add(job)
    if not needs:
        return
    decoding = SAFER_DECODING if tunable else None
    outputs, failed = by_pair(lambda some: translate_guarded(engine, some, decoding=decoding, split=split), needs)
    repairs = pairs_by(pairs)
    for (src, tgt), exc in failed.items():  # a failed retry leaves the first attempt standing
        count = sum(1 for job in needs if job[:2] == (src, tgt))
        pair = repairs[(src, tgt)]
        pair.checked.problems.append(f"{pair.name} failed retrying {count} flagged sentence(s) {src}→{tgt}: {exc}")
    _offer_all([_Offer(repairs[job[:2]], job[2], output, SAFER) for job, output in outputs.items()])


def _attempt_fallback(pairs: list[_Pair]) -> None:
    """Step 4: each pair's still-flagged sentences to its next route; pairs that land on the
    same engine share one job."""
    groups: dict[int, tuple[Engine, dict[Job, _Needs]]] = {}
    repairs = pairs_by(pairs)
    for pair in pairs:
        rest = [t for t in pair.needs if t not in pair.best or pair.best[t][1]]
        engine = pair.next_engine() if rest else None
        if engine is None:
            continue
        _, needs = groups.setdefault(id(engine), (engine, {}))
        needs.update({(pair.src, pair.tgt, t): pair.needs_for(engine, t) for t in rest})
    for engine, needs in groups.values():
        outputs, failed = by_pair(lambda some, engine=engine: translate_guarded(engine, some), needs)
        for (src, tgt), exc in failed.items():
            repairs[(src, tgt)].checked.problems.append(f"{engine.spec.name} failed as the fallback for {src}→{tgt}: {exc}")
        _offer_all([_Offer(repairs[job[:2]], job[2], output, f"{FALLBACK}:{engine.model_id}", needs[job])
                    for job, output in outputs.items()])


@dataclass(frozen=True)
class _Offer:
    """An attempt's output for one sentence of a pair, to be checked and offered to it."""

    pair: _Pair
    text: str
    output: str
    attempt: str
    needs: _Needs | None = None


def _offer_all(offers: Sequence[_Offer]) -> None:
    """Check each offered output and let its pair keep it when it has fewer flags than the
    best so far; all are checked in one go (the checker asks the detector about all the
    outputs into one target at once)."""
    if not offers:
        return
    checks = []
    for offer in offers:
        needs = offer.needs or offer.pair.needs[offer.text]
        checks.append(ToCheck(offer.text, offer.output, offer.pair.src, offer.pair.tgt, needs.spans, needs.terms))
    for offer, flags in zip(offers, offers[0].pair.checker.check_many(checks), strict=True):
        offer.pair.keep(offer.text, offer.output, flags, offer.attempt)


class _Pair:
    """The repair of one (engine, src, tgt): its sentences, their attempts and the verdict."""

    def __init__(
        self, engine_name: str, engine: Engine, src: str, tgt: str, texts: dict[str, tuple[str, ...]],
        checked: Checked, failure: Failure | None, pool: EnginePool, registry: Registry, checker: Checker,
        glossary: Glossary,
    ) -> None:
        self.name, self.engine, self.src, self.tgt = engine_name, engine, src, tgt
        self.checked, self.quality, self.failure = checked, checked.quality, failure
        self.pool, self.registry, self.checker = pool, registry, checker
        self.protected = texts
        self.terms = {text: tuple(glossary.fixed_terms(text, tgt)) for text in texts}
        self.needs = {text: self.needs_for(engine, text) for text in texts}
        self.failed = [t for t in texts if self.key(t) not in checked.translations]
        # best so far per sentence: (text, flags, attempt)
        self.best: dict[str, tuple[str, tuple[Flag, ...], str]] = {}

    def key(self, text: str) -> TaskKey:
        return (self.name, self.src, self.tgt, text)

    def first_outputs(self) -> dict[Job, str]:
        """The runner's translation of each sentence it did not fail on."""
        return {(self.src, self.tgt, t): self.checked.translations[self.key(t)] for t in self.needs if t not in self.failed}

    def finish(self) -> None:
        """Keep each sentence's best attempt; record its flags and which attempt it was."""
        for text, (output, flags, attempt) in self.best.items():
            key = self.key(text)
            self.checked.translations[key] = output
            if flags:
                self.quality.flags[key] = flags
            if attempt != FIRST:
                self.quality.attempts[key] = attempt

    def needs_for(self, engine: Engine, text: str) -> _Needs:
        """What `text`'s translation by `engine` must contain: its protected spans, the characters
        this model cannot represent (each as often as it occurs), and the fixed glossary terms."""
        spans = self.protected[text]
        inside = "".join(spans)
        unknown = tuple(c for c in sorted(engine.unknown_characters(text)) if c not in inside for _ in range(text.count(c)))
        return _Needs(tuple(spans) + unknown, self.terms[text])

    def keep(self, text: str, output: str, flags: tuple[Flag, ...], attempt: str) -> None:
        """Keep a checked attempt's output when it has fewer flags than the best so far."""
        if text not in self.best or len(flags) < len(self.best[text][1]):
            self.best[text] = (output, flags, attempt)

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
                outputs = translate_guarded(self.engine, {(self.src, self.tgt, t): self.needs[t] for t in batch})
                done.update((job[2], output) for job, output in outputs.items())
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

    def next_engine(self) -> Engine | None:
        """The engine of the next route models.yaml lists for this pair, when one can run here."""
        candidates = self.registry.candidates(self.src, self.tgt)
        names = [spec.name for spec in candidates]
        mine = getattr(self.engine, "route", self.name)  # a pivot is listed under its route's name (engines/pivot.py)
        later = candidates[names.index(mine) + 1 :] if mine in names else [c for c in candidates if c.name != mine]
        if not later:
            return None
        try:
            engine, _ = self.pool.choose(later, self.src, self.tgt)
        except EngineError:
            return None
        return engine  # None when no later route can run here (e.g. offline): the flags stay

    def failure_report(self) -> str | None:
        """What became of the sentences the first attempt failed on, with why it failed; None
        when it failed on none."""
        failed = self.failed
        if not failed:
            return None
        still = sum(1 for t in failed if t not in self.best)
        by = Counter(self.best[t][2].split(":", 1)[1] for t in failed
                     if t in self.best and self.best[t][2].startswith(FALLBACK))
        via = "".join(f", {n} by the next route ({model})" for model, n in sorted(by.items()))
        outcome = (f"all {len(failed)} sentence(s) were translated{via}" if not still else
                   f"{still} of {len(failed)} sentence(s) kept untranslated{via}")
        if self.failure is None:
            return f"{self.name} failed on {self.src}→{self.tgt}: retried: {outcome}"
        return f"{self.name} failed on {self.src}→{self.tgt}: {self.failure.error}; retried: {outcome}"


def _systematic(flagged: int, total: int) -> bool:
    return flagged >= SYSTEMATIC_MIN and flagged >= SYSTEMATIC_SHARE * total


def translate_guarded(
    engine: Engine,
    texts: dict[Job, _Needs],
    *,
    decoding: Decoding | None = None,
    split: set[Job] | frozenset[Job] = frozenset(),
) -> dict[Job, str]:
    """Translate each (src, tgt, text) so that nothing is lost: cut to the model's input limit
    (or into halves, for jobs in `split`), send ALL-CAPS text in sentence case, and translate
    around any required span or term the output lacks, putting it back."""
    send = {job: (sentence_case(job[2], needs.spans) if is_all_caps(job[2], needs.spans) else job[2])
            for job, needs in texts.items()}
    halve = sorted({send[job] for job in texts if job in split})
    lengths = dict(zip(halve, engine.count_tokens(halve))) if halve else {}
    pieces: dict[Job, list[Piece]] = {}
    for job, sent in send.items():
        n = lengths[sent] if job in split else 0
        pieces[job] = split_long(sent, max(3, n // 2), engine.count_tokens) if n >= 6 else [Piece(sent, True)]
    out = translate_pieces(engine, pieces, decoding=decoding)
    redo: dict[Job, list[Piece]] = {}
    for job, needs in texts.items():
        if job[2] != send[job]:
            out[job] = upper_outside(out[job], needs.spans)
        if lost_spans(out[job], needs.spans) or missing_terms(out[job], needs.terms):
            redo[job] = _around(send[job], needs)
    if redo:
        joined = translate_pieces(engine, redo, decoding=decoding, replace={job: dict(texts[job].terms) for job in redo})
        for job, text in joined.items():
            out[job] = upper_outside(text, texts[job].spans) if job[2] != send[job] else text
    return out


def _around(text: str, needs: _Needs) -> list[Piece]:
    """The text as runs between its required spans and source terms, which pass untranslated."""
    found = _occurrences(text, list(needs.spans) + [term for term, _ in needs.terms])
    return split_around_spans(text, [text[s:e] for s, e in found])


def _occurrences(text: str, items: Sequence[str]) -> list[tuple[int, int]]:
    """Where `items` occur in `text`, in order, without overlaps: longer items claim their
    place first, in a fixed order (never set order, which varies between runs)."""
    found: list[tuple[int, int]] = []
    for item in sorted(set(items), key=lambda w: (-len(w), w)):
        start = text.find(item)
        while start >= 0:
            end = start + len(item)
            if all(end <= s or start >= e for s, e in found):
                found.append((start, end))
            start = text.find(item, start + 1)
    return sorted(found)


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
    out, cursor = [], 0
    for start, end in _occurrences(text, spans):
        out.append(change(text[cursor:start]))
        out.append(text[start:end])
        cursor = end
    out.append(change(text[cursor:]))
    return "".join(out)
