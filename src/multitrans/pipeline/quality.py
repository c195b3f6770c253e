"""Quality flags: noticing, per segment and target language, the ways neural models fail quietly.

A newsroom publishing in a hundred languages cannot read every output, so every
translated sentence is checked for the failures models are known for:

* `wrong_language`: the output reads as another language than the target (often the
  source: the model copied or half-copied it).  Judged by the run's own
  `LanguageDetector`, only where the detector knows the target and is sure, which it
  never is on very short text; close languages it cannot reliably tell apart on a
  sentence (Bokmål, Nynorsk and Danish; Croatian, Serbian and Bosnian...) do not count,
  nor does a reading that comes from what a translation rightly keeps: names, or a
  foreign quotation the source holds too.
* `length_ratio`: the output is much shorter or longer than the pair's languages
  explain (a dropped second half, a runaway generation).  Lengths are counted in
  characters without spaces or protected spans, scaled by how densely each script
  writes (Chinese needs about a third of the characters of English).
* `repetition`: the output loops on a word, a phrase or a run of characters more
  than the source does.
* `span_lost`: a protected span (number, URL, e-mail, a name the glossary keeps, a
  character the model cannot represent) or a glossary term fixed for the target is
  missing or altered.
* `untranslated_copy`: the output is the source, unchanged.
* `not_translated`: no model could serve the block, or the engine failed on it; the
  source text was kept.

Flags drive `repair.py` (a flagged segment is retried) and are what stays visible when
the retries could not clear them: in the aligned JSONL, the report and `--strict`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..document import Flag
from ..languages import UnknownLanguage, are_close, count_unspaced, density
from ..languages import name as language_name
from .segment import count_span

if TYPE_CHECKING:
    from .plan import TaskKey

FLAG_CODES: dict[str, str] = {
    "wrong_language": "the output reads as another language than the target",
    "length_ratio": "the output is far shorter or longer than the source for this pair",
    "repetition": "the output loops on a word, phrase or characters",
    "span_lost": "a number, URL, e-mail, kept name or fixed glossary term is missing or altered",
    "untranslated_copy": "the output is the source text unchanged",
    "not_translated": "no model served the block or the engine failed; the source text was kept",
}

# Attempts, in the order repair tries them; a block reports its latest.
FIRST = "first"
SAFER = "safer_decoding"
FALLBACK = "fallback_route"
HUMAN = "human_edit"  # a translator's edit, imported from XLIFF and reused from the memory

# (shortest source, lowest ratio, highest ratio), as multiples of the ratio the scripts explain.
# Shorter sources vary more; under the first row's length only an empty output is flagged.
_RATIO_BOUNDS = ((80, 0.5, 2.2), (30, 0.4, 2.6))
# Loops: an n-gram of words repeated this often in a row (n = 1, n >= 2), or one unit of
# characters repeated at least _CHAR_REPEATS times covering _CHAR_LOOP_MIN characters.
_WORD_REPEATS = (4, 3)
_MAX_NGRAM = 8
_CHAR_REPEATS = 6
_CHAR_LOOP_MIN = 10
_CHAR_LOOP = re.compile(r"([^\s\d]{1,12}?)\1{%d,}" % (_CHAR_REPEATS - 1))
_WORD = re.compile(r"\w+")
_COPY_MIN_WORDS = 3  # a copied name or two-word phrase is often the right translation
# Between close languages (Bokmål, Nynorsk, Danish…) a short sentence is often written the same
# ("Sims var 20 år gammel.", "Det er helt grusomt."): of NTREX's Bokmål lines 1-1000, 16 correct
# Apertium sentences into Danish and Nynorsk were flagged as copies, none of more than 8
# ordinary words.  A longer copy between them still is flagged.
_CLOSE_COPY_MAX_WORDS = 12
# Between close relatives (Bokmål into Swedish, say), a translation keeps the source's names,
# numbers and many of its words, and a rule-based engine leaves the words it does not know
# as they were: a short correct sentence can read as the source ("Almanakken: Uppfinnaren av
# geigertelleren", nb 100 %).  Output into a close relative of the source is flagged as
# another relative of both only on strong evidence (detect.strong_evidence).


class Detector(Protocol):
    def detect(self, text: str, *, target: str | None = None) -> Any: ...

    def detect_many(self, texts: Sequence[str], *, target: str | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class ToCheck:
    """One translated segment: `output`, the translation of `source` from `src` to `tgt`, with
    the spans and glossary terms it must keep (see `Checker.check`)."""

    source: str
    output: str
    src: str
    tgt: str
    spans: Sequence[str] = ()
    terms: Sequence[tuple[str, str]] = ()


class Checker:
    """Checks translated segments; holds the run's language detector (built once per run)."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self._detectable: frozenset[str] | None = None

    def check(
        self,
        source: str,
        output: str,
        src: str,
        tgt: str,
        spans: Sequence[str] = (),
        terms: Sequence[tuple[str, str]] = (),
    ) -> tuple[Flag, ...]:
        """Every flag `output`, the translation of `source` from `src` to `tgt`, earns.

        `spans` are the substrings that must come through unchanged (as often as in the
        source); `terms` pairs each fixed glossary term found in the source with the term
        the target requires.
        """
        return self.check_many([ToCheck(source, output, src, tgt, spans, terms)])[0]

    def check_many(self, items: Sequence[ToCheck]) -> list[tuple[Flag, ...]]:
        """`check`'s flags for each item; the detector reads all the outputs into one target in
        one call (a run's thousands of short outputs would cost a detector call each)."""
        flags = [self._flags_but_language(item) for item in items]
        judged: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            if item.tgt in self.detectable and not flags[i][1]:
                judged.setdefault(item.tgt, []).append(i)
        found: dict[int, Any] = {}
        for tgt, indices in judged.items():
            if len(indices) > 1:
                found.update(zip(indices, self.detector.detect_many([items[i].output for i in indices], target=tgt)))
        result = []
        for i, (item, (some, copied)) in enumerate(zip(items, flags)):
            if copied:
                some.append(Flag("untranslated_copy", "the output is the source text unchanged"))
            else:
                wrong = self.wrong_language(item.output, item.src, item.tgt, item.source, found=found.get(i))
                if wrong:
                    some.append(Flag("wrong_language", wrong))
            result.append(tuple(some))
        return result

    @staticmethod
    def _flags_but_language(item: ToCheck) -> tuple[list[Flag], bool]:
        """Every flag but the language's, and whether the output is an untranslated copy
        (which is flagged as that instead)."""
        output, source, spans = item.output, item.source, item.spans
        flags: list[Flag] = []
        lost = lost_spans(output, spans)
        if lost:
            flags.append(Flag("span_lost", f"{quote(lost[0])} is missing" + (f" (and {len(lost) - 1} more)" if len(lost) > 1 else "")))
        for term, required in missing_terms(output, item.terms):
            flags.append(Flag("span_lost", f"glossary term {quote(required)} (for {quote(term)}) is missing"))
        loop = repetition(source, output)
        if loop:
            flags.append(Flag("repetition", loop))
        ratio = length_problem(source, output, item.src, item.tgt, spans)
        if ratio:
            flags.append(Flag("length_ratio", ratio))
        return flags, is_copy(source, output, spans, close=are_close(item.src, item.tgt, "output"))

    def wrong_language(
        self, output: str, src: str, tgt: str, source: str | None = None, *, found: Any = None
    ) -> str | None:
        """Why `output` is not in `tgt`, or None when it is, or the detector cannot say.

        The detector is told the target, so that its high-accuracy models are asked only
        whether the output is in the target or a close rival, never loaded for whatever a
        broken model's garbled output happens to resemble.  `found` is the detector's
        reading of `output` (into `tgt`) when the caller already has it.
        """
        if tgt not in self.detectable:
            return None
        if found is None:
            found = self.detector.detect(output, target=tgt)
        lang = getattr(found, "lang", None)
        # Output in a close sibling of the target is not flagged (Apertium's Nynorsk without
        # marker words reads as Bokmål).
        if lang is None or lang == tgt or are_close(lang, tgt, "output"):
            return None
        from .detect import strong_evidence, without_names

        if are_close(src, tgt, "block") and are_close(lang, tgt, "block") and not strong_evidence(output, found.confidence):
            return None
        plain = without_names(output)
        if plain != output and self._reads_as(plain, tgt, tgt):
            return None  # the names read as it ("Johnny English Strikes Again" as Welsh), not the sentence
        if source is not None and not are_close(lang, src, "block") and self._reads_as(source, lang, src):
            return None  # kept from the source, as it should be (a French quotation in a Norwegian text)
        what = "the source language" if lang == src else language_name(lang)
        return f"reads as {what} ({lang}, {found.confidence:.0%} sure), not {language_name(tgt)}"

    def _reads_as(self, text: str, lang: str, expected: str) -> bool:
        """Whether `text`, expected to be in `expected`, reads as `lang` or a language too close
        to it to tell apart."""
        found = getattr(self.detector.detect(text, target=expected), "lang", None)
        return found is not None and (found == lang or are_close(found, lang, "output"))

    @property
    def detectable(self) -> frozenset[str]:
        """Targets the detector can recognise; output in any other target is not judged."""
        if self._detectable is None:
            from .detect import supported_languages

            self._detectable = frozenset(supported_languages())
        return self._detectable


def lost_spans(output: str, spans: Sequence[str]) -> list[str]:
    """Spans that do not occur in `output` as often as they are listed."""
    needed = Counter(spans)
    return [span for span, n in needed.items() if count_span(output, span) < n]


def missing_terms(output: str, terms: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    needed = Counter(terms)
    return [(term, required) for (term, required), n in needed.items() if output.count(required) < n]


def repetition(source: str, output: str) -> str | None:
    """A loop in `output` that `source` does not have, described; None when there is none."""
    found = _word_loop(output)
    if found is not None:
        gram, count = found
        src_loop = _word_loop(source, len(gram.split()))
        if src_loop is None or src_loop[1] < count:
            return f"{quote(gram)} repeated {count} times in a row"
    for match in _CHAR_LOOP.finditer(output):
        unit = match.group(1)
        if len(match.group()) >= _CHAR_LOOP_MIN and unit * _CHAR_REPEATS not in source:
            return f"{quote(unit)} repeated {len(match.group()) // len(unit)} times in a row"
    return None


def _tokens(text: str) -> list[str]:
    """Words, case-folded; each character of an unspaced script (Han, kana, Thai...) counts as one."""
    tokens: list[str] = []
    for word in _WORD.findall(text.casefold()):
        if count_unspaced(word):
            tokens.extend(word)
        else:
            tokens.append(word)
    return tokens


def _word_loop(text: str, only_n: int | None = None) -> tuple[str, int] | None:
    """The longest run of one n-gram repeated back to back (at least the threshold), as
    (n-gram, repeats); linear in the text, since a found run is skipped as a whole."""
    tokens = _tokens(text)
    best: tuple[str, int] | None = None
    sizes = [only_n] if only_n else range(1, _MAX_NGRAM + 1)
    for n in sizes:
        need = _WORD_REPEATS[0] if n == 1 else _WORD_REPEATS[1]
        i = 0
        while i + 2 * n <= len(tokens):
            gram = tokens[i : i + n]
            run = 1
            while tokens[i + run * n : i + (run + 1) * n] == gram:
                run += 1
            if run >= need and (best is None or run * n > best[1] * len(best[0].split())):
                best = (" ".join(gram), run)
            i += (run - 1) * n + 1 if run > 1 else 1
    return best


def length_problem(source: str, output: str, src: str, tgt: str, spans: Sequence[str] = ()) -> str | None:
    """Why the output's length is implausible for the pair, or None."""
    n_src, n_out = _letters(source, spans), _letters(output, spans)
    if n_src == 0:
        return None
    if n_out == 0:
        return "the output is empty"
    expected = _density(tgt) / _density(src)
    ratio = n_out / n_src
    for shortest, low, high in _RATIO_BOUNDS:
        if n_src >= shortest:
            if ratio < expected * low:
                return f"the output is {ratio:.2f}× the source's length (at least {expected * low:.2f}× expected)"
            if ratio > expected * high:
                return f"the output is {ratio:.2f}× the source's length (at most {expected * high:.2f}× expected)"
            return None
    return None


def _letters(text: str, spans: Sequence[str]) -> int:
    text = without_spans(text, spans)
    return len(text) - sum(map(str.isspace, text))


def without_spans(text: str, spans: Sequence[str]) -> str:
    """`text` with every occurrence of the spans blanked, longest first and in a fixed order
    (never set order, which changes from run to run), so overlapping spans count the same way."""
    for span in sorted(set(spans), key=lambda s: (-len(s), s)):
        text = text.replace(span, " ")
    return text


def _density(lang: str) -> float:
    try:
        return density(lang)
    except UnknownLanguage:
        return 1.0


def is_copy(source: str, output: str, spans: Sequence[str] = (), close: bool = False) -> bool:
    """The output is the source (whitespace aside), and the source has enough ordinary words
    that a copy cannot be the right translation (names and short phrases can be; between
    `close` languages, short sentences can be too)."""
    if " ".join(output.split()) != " ".join(source.split()):
        return False
    text = without_spans(source, spans)
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if not (w[0].isupper() and any(c.islower() for c in w))]
    return len(words) > _CLOSE_COPY_MAX_WORDS if close else len(words) >= _COPY_MIN_WORDS


def quote(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= width else text[: width - 1] + '…'}”"


def later(a: str | None, b: str | None) -> str | None:
    """The later of two attempts (first < safer_decoding < fallback_route:… < human_edit)."""
    order = {FIRST: 0, SAFER: 1, HUMAN: 3}
    rank = lambda attempt: -1 if attempt is None else order.get(attempt, 2)
    return b if rank(b) > rank(a) else a


@dataclass
class Quality:
    """What checking and repair found for each task: its flags (after repair) and the attempt used."""

    flags: dict[TaskKey, tuple[Flag, ...]]
    attempts: dict[TaskKey, str]
    retried: int = 0
