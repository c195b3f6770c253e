"""Language identification of documents and of their blocks, deterministic run to run.

Two detectors, because neither alone covers what a Norwegian newsroom meets:

* **lingua** (75 languages) is the main one.  It does not sample (only the last bits of
  its confidences vary between instances, so they are rounded), it is markedly better
  than langdetect on short text such as headings, and it is the only one that tells
  Bokmål from Nynorsk.
* **langdetect** (55 languages) is consulted only where it adds coverage: Nepali, Kannada
  and Malayalam, which lingua lacks.  Kannada and Malayalam use scripts lingua has no
  model for (it answers nothing at all), and Nepali is Devanagari, which lingua reads as
  Hindi or Marathi, so langdetect is asked whenever lingua is unsure or says Hindi or
  Marathi (and the text has a letter in one of those three scripts), and its answer is taken only for a language lingua lacks and only when it is
  confident.  langdetect samples n-grams at random; a detector-owned factory with
  ``seed = 0`` (reset before every call) makes it repeatable, and its profiles are loaded
  in sorted order so that the result does not hang on directory order either.

On top of those, decisions of our own:

* Bokmål versus Nynorsk: lingua's two scores are close on short or mixed text and the
  translation route differs (Apertium nob→nno exists, NLLB has both), so marker words
  that only one written standard uses (``ikkje``/``ikke``, ``frå``/``fra``...) are counted
  and weighed together with lingua's split.  Norwegian without a clear decision is
  Bokmål, by far the more common written standard.  Danish against Norwegian is decided
  the same way first, because lingua calls a short Bokmål sentence Danish about as
  often as it gets it right ("Jeg vet ikke hva de mener om det, men jeg skal spørre dem
  i morgen" scores Danish 0.60).  Within a document, a block whose standard stayed
  unclear takes the document's, which has the evidence the block lacks.
* Simplified versus Traditional Chinese (NLLB has both, lingua only "Chinese"): counted
  from characters that differ between the two.
* Khmer, Lao, Sinhala and Odia, which neither library knows but NLLB translates, are
  told apart by their script alone: each script is used by that one language.

All-caps text is lower-cased before detection: langdetect's profiles are built from
mixed-case text and lose confidence on capitals ("ALL ARTICLES CAN BE READ..." drops from
0.99 to 0.86), while lingua lower-cases itself anyway.  URLs, e-mail addresses and digits
are removed first since they carry no language but do carry English-looking n-grams.

lingua runs in its low-accuracy mode (trigrams only).  Measured on the fixtures in
``tests/test_detect.py`` (108 texts, 35 languages) it scored 100 % where the
high-accuracy mode scored 94 % with the same thresholds, and it costs about 0.25 s and
under 100 MB on first use instead of about 6 s and 1.3 GB (preloaded), which matters for
a detector built once per run next to translation models.  Its confidences are peaky,
though (three words of names can score 0.94 for Icelandic), which is why a block's
language is only reported above a word count as well as a confidence, and why
capitalised words inside a sentence, mostly names, do not count as words.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from lingua import Language as LinguaLanguage
from lingua import LanguageDetectorBuilder

from multitrans import languages
from multitrans.errors import UserError

__all__ = [
    "Detection",
    "DocumentDetection",
    "LanguageDetector",
    "LanguageUndecided",
    "TooLittleText",
    "supported_languages",
]


class LanguageUndecided(UserError):
    """The document's language could not be decided; the user has to name it."""


class TooLittleText(LanguageUndecided):
    """The document holds too little language (dates, numbers, names) to detect one."""


@dataclass(frozen=True)
class Detection:
    """One text's language (our code), or None when too short or unsure; confidence 0..1."""

    lang: str | None
    confidence: float

    def __post_init__(self) -> None:
        # lingua's confidences differ in the last bits between detector instances (its
        # sums run in hash order), so they are rounded to keep results repeatable.
        object.__setattr__(self, "confidence", _round(self.confidence))


@dataclass(frozen=True)
class DocumentDetection:
    """The document's language, plus each block's own detection in block order."""

    lang: str
    confidence: float
    blocks: list[Detection] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "confidence", _round(self.confidence))


def _round(confidence: float) -> float:
    return round(min(1.0, max(0.0, confidence)), 4)


# --- thresholds ------------------------------------------------------------------------
# A block's language is reported only with at least this much text and this confidence.
# Three words is the shortest heading that still reads as a language ("Talsmann John
# Kirby" is mostly names and comes out unsure, which is the honest answer).
MIN_BLOCK_WORDS = 3
MIN_BLOCK_LETTERS = 12
MIN_BLOCK_CONFIDENCE = 0.80
# The whole document needs less: its language is decided by the bulk of the text.
MIN_DOCUMENT_WORDS = 2
MIN_DOCUMENT_LETTERS = 8
MIN_DOCUMENT_CONFIDENCE = 0.50
# Below this lingua is "unsure" and langdetect may add a language lingua lacks.
LINGUA_UNSURE = 0.50
LANGDETECT_CONFIDENT = 0.90

# --- extra coverage ----------------------------------------------------------------------
# Languages langdetect knows and lingua does not, and lingua answers that may hide them.
_LANGDETECT_ONLY = frozenset({"ne", "kn", "ml"})
_MAY_HIDE_LANGDETECT_ONLY = frozenset({"hi", "mr"})
# The scripts those languages are written in (Devanagari for Nepali, Kannada, Malayalam).
# langdetect can only be confident of one of them on text in its script, so text without
# any is never sent to it: on text lingua is unsure of (a model's garbled output, say),
# langdetect's random sampling would cost several milliseconds for an answer it cannot give.
_LANGDETECT_ONLY_SCRIPTS = re.compile(
    languages.script_class(sorted(languages.get(code).script for code in _LANGDETECT_ONLY))
)
# Languages neither library knows, each the one NLLB language written in its script
# (Khmer, Lao, Sinhala, Odia), by the code point ranges of that script.
_SCRIPT_LANGUAGES = {
    span: code
    for code in ("km", "lo", "si", "or")
    for span in languages.script_ranges(languages.get(code).script)
}

# --- Norwegian and Danish ---------------------------------------------------------------
# Words that only one written standard uses.  Both lists hold common function words, so
# a paragraph of either standard has several; a-infinitive forms are Nynorsk too.
_NYNORSK_MARKERS = frozenset("""
    ikkje eg frå kva korleis kvifor kven kor dei berre mykje vere vera vore vorte òg kvar
    noko nokon nokre meir sjølv fekk ho hjå heile fleire difor sidan medan utan ein eit
    vart hennar deira dykk no enno framleis saman gjere gjera seie seia veke kyrkje førre
    bede då dessutan eigen eige
""".split())
_BOKMAL_MARKERS = frozenset("""
    ikke jeg fra hva hvordan hvorfor hvem hvor de bare mye være vært også hver noe noen
    mer selv fikk hun hele flere siden mens uten en et ble hennes deres dere nå ennå
    fortsatt sammen gjøre uke kirke forrige bedt dessuten egen eget
""".split())
# Danish against Norwegian (either standard): short Bokmål sentences often score as
# Danish in lingua, and the other way round.
_DANISH_MARKERS = frozenset("""
    hvad af nogen noget efter mig dig sig nu lidt blev bliver blevet været sige spørge
    tilbage sådan måske igen os jer nej gerne næste købe tænke kende øjeblik hvornår ud op
    mellem uden hjælpe spørgsmål vores jeres
""".split())
_NORWEGIAN_NOT_DANISH = _NYNORSK_MARKERS | frozenset("""
    hva noen noe etter meg deg seg litt ble blir blitt vært si spørre tilbake sånn kanskje
    igjen oss dere nei gjerne neste kjøpe tenke kjenne øyeblikk mye vet ut opp mellom uten
    hjelpe spørsmål
""".split())
# Adjective endings: Nynorsk -leg/-lege ("sørvestlege"), Bokmål -lig/-lige ("sørvestlige").
_NYNORSK_SUFFIXES = ("leg", "lege", "legt", "legare", "legaste")
_BOKMAL_SUFFIXES = ("lig", "lige", "ligt", "ligere", "ligste")
_SUFFIX_EXCEPTIONS = frozenset({"college", "colleges", "privilege", "privileges"})
# lingua's split between two close languages counts as up to one marker word per 40
# letters of text (on a five-word heading it is close to a coin toss, on a paragraph it
# is not), at most four; this much net evidence makes a decision clear.
_LINGUA_LETTERS_PER_MARKER = 40
_LINGUA_MAX_MARKERS = 4.0
_MARKER_MARGIN = 0.5

# --- Chinese -----------------------------------------------------------------------------
# Frequent characters written differently in the two scripts, simplified then traditional.
_SIMPLIFIED = ("这们国说为时会来对个发经学过东没还进长问关开见实现动种样报战与华总"
               "机电军员门间业产务将从应书义让认读语请谈话车马鸟鱼龙风飞钱银")
_TRADITIONAL = ("這們國說為時會來對個發經學過東沒還進長問關開見實現動種樣報戰與華總"
                "機電軍員門間業產務將從應書義讓認讀語請談話車馬鳥魚龍風飛錢銀")

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _ranges_contain(char: str, ranges: dict[tuple[int, int], str]) -> str | None:
    code = ord(char)
    for (low, high), lang in ranges.items():
        if low <= code <= high:
            return lang
    return None


@dataclass(frozen=True)
class _Prepared:
    """Text as the detectors see it, and how much language it holds."""

    text: str
    letters: int
    words: float


_SENTENCE_OPENERS = frozenset('.!?:;«»"“”„([–—')


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` opens the text, a sentence, a quote or a parenthesis."""
    i = start - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i < 0 or text[i] in _SENTENCE_OPENERS


def _prepare(raw: str) -> _Prepared:
    """Strip what carries no language and measure what is left.

    Capitalised words inside a sentence are mostly names ("Talsmann John Kirby") and say
    nothing about the language around them, so they do not count towards the word
    thresholds (they still go to the detectors).  Words in unspaced scripts are estimated
    as two characters each, so a Chinese sentence clears the same thresholds as its
    English translation.
    """
    text = _DIGITS.sub(" ", _URL.sub(" ", unicodedata.normalize("NFC", raw)))
    cased = [c for c in text if c.isupper() or c.islower()]
    if cased and sum(c.isupper() for c in cased) >= 0.9 * len(cased):
        text = text.lower()
    text = " ".join(text.split())
    letters = 0
    words = 0.0
    for match in _WORD.finditer(text):
        token = match.group()
        letters += len(token)
        unspaced = languages.count_unspaced(token)
        if unspaced:
            words += max(1.0, unspaced / 2)
        elif not token[0].isupper() or _starts_sentence(text, match.start()):
            words += 1.0
    return _Prepared(text, letters, words)


def _our_code(language: LinguaLanguage) -> str | None:
    """lingua's language as our code, or None for the one it knows and NLLB does not (Latin)."""
    try:
        return languages.normalize(language.iso_code_639_1.name)
    except languages.UnknownLanguage:
        return None


_LINGUA_CODES = {lang: _our_code(lang) for lang in LinguaLanguage.all()}


def supported_languages() -> list[str]:
    """Every language (our codes) the detector can answer, sorted."""
    codes = {c for c in _LINGUA_CODES.values() if c is not None}
    codes |= _LANGDETECT_ONLY | set(_SCRIPT_LANGUAGES.values()) | {"zh-Hant"}
    return sorted(codes)


@dataclass(frozen=True)
class _Guess:
    """A detector's answer before thresholds.

    `alternatives` holds the close languages the evidence could not tell `lang` apart
    from (Bokmål that is only the default, not clearly not Nynorsk), so a document in
    one of them can claim the block; `unsupported` names a language lingua found that
    NLLB cannot translate.
    """

    lang: str | None
    confidence: float
    alternatives: frozenset[str] = frozenset()
    unsupported: str | None = None


_NO_GUESS = _Guess(None, 0.0)


@dataclass(frozen=True)
class _Block:
    """A block's guess, kept next to its reported detection for the document's say."""

    guess: _Guess
    detection: Detection


class LanguageDetector:
    """Built once per run and passed along: building lingua's model table is the cost."""

    def __init__(self) -> None:
        self._lingua = (
            LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
        )

    @cached_property
    def _langdetect(self) -> DetectorFactory:
        """langdetect's profiles, loaded on first need (about 0.2 s): many runs never ask."""
        factory = DetectorFactory()
        profiles = []
        for name in sorted(os.listdir(PROFILES_DIRECTORY)):
            with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
                profiles.append(handle.read())
        factory.load_json_profile(profiles)
        factory.seed = 0
        return factory

    # --- public ------------------------------------------------------------------------

    def detect(self, text: str) -> Detection:
        """One block's language, None when the text is too short or the detectors unsure."""
        return self._block(text).detection

    def detect_document(self, block_texts: Sequence[str]) -> DocumentDetection:
        """The document's language from all its text, and each block's own detection.

        The document is judged on the concatenated text, so every block weighs by its
        length and the English header line of a Norwegian article cannot outvote it.
        A block whose Bokmål/Nynorsk (or Danish/Norwegian) decision stayed unclear takes
        the document's language when that is one of the candidates: the document has the
        evidence the block lacks.
        """
        prepared = _prepare("\n".join(block_texts))
        if prepared.words < MIN_DOCUMENT_WORDS or prepared.letters < MIN_DOCUMENT_LETTERS:
            raise TooLittleText(
                "The document has too little text to detect its language; "
                "pass --from LANG to name it."
            )
        guess = self._identify(prepared.text)
        if guess.lang is None and guess.unsupported is not None:
            raise LanguageUndecided(
                f"The document seems to be in {guess.unsupported}, which multitrans cannot "
                "translate from; pass --from LANG if that is wrong."
            )
        if guess.lang is None:
            raise LanguageUndecided(
                "The document's language could not be recognized; pass --from LANG to name it."
            )
        if guess.confidence < MIN_DOCUMENT_CONFIDENCE:
            raise LanguageUndecided(
                "The document's language could not be decided "
                f"(best guess {languages.name(guess.lang)}, {guess.confidence:.0%} sure); "
                "pass --from LANG to name it."
            )
        blocks = []
        for text in block_texts:
            block = self._block(text)
            found = block.detection
            if found.lang is not None and guess.lang in block.guess.alternatives:
                found = Detection(guess.lang, found.confidence)
            blocks.append(found)
        return DocumentDetection(guess.lang, guess.confidence, blocks)

    # --- the decision ------------------------------------------------------------------

    def _block(self, text: str) -> _Block:
        """A block's guess and what of it is reported after the thresholds."""
        prepared = _prepare(text)
        if prepared.words < MIN_BLOCK_WORDS or prepared.letters < MIN_BLOCK_LETTERS:
            return _Block(_NO_GUESS, Detection(None, 0.0))
        guess = self._identify(prepared.text)
        if guess.lang is None or guess.confidence < MIN_BLOCK_CONFIDENCE:
            return _Block(guess, Detection(None, guess.confidence))
        return _Block(guess, Detection(guess.lang, guess.confidence))

    def _identify(self, text: str) -> _Guess:
        """Best language for prepared text and its confidence, before any threshold.

        A language lingua knows but NLLB does not (Latin) comes back as lang None with
        its confidence, so callers can tell "unsupported" from "unsure".
        """
        by_script = self._by_script(text)
        if by_script is not None:
            return by_script
        scores: dict[str, float] = {}
        unsupported: tuple[float, str] = (0.0, "")
        for value in self._lingua.compute_language_confidence_values(text):
            code = _LINGUA_CODES[value.language]
            if code is not None:
                scores[code] = value.value
            elif value.value > unsupported[0]:
                unsupported = (value.value, value.language.name.title())
        if not scores:
            return _NO_GUESS
        best = max(scores, key=lambda c: (scores[c], c))
        confidence = scores[best]
        if (confidence < LINGUA_UNSURE or best in _MAY_HIDE_LANGDETECT_ONLY) and _LANGDETECT_ONLY_SCRIPTS.search(text):
            extra = self._langdetect_only(text)
            if extra is not None:
                return extra
        if unsupported[0] > confidence:
            return _Guess(None, unsupported[0], unsupported=unsupported[1])
        if confidence == 0.0:  # a script lingua has no model for
            return _NO_GUESS
        if best in languages.SCANDINAVIAN:
            return self._scandinavian(text, scores)
        if best == "zh":
            return _Guess(self._chinese(text), confidence)
        return _Guess(best, confidence)

    @staticmethod
    def _by_script(text: str) -> _Guess | None:
        """Khmer, Lao, Sinhala or Odia when most letters are in that language's own script."""
        counts: dict[str, int] = {}
        letters = 0
        for char in text:
            if char.isalpha():
                letters += 1
                lang = _ranges_contain(char, _SCRIPT_LANGUAGES)
                if lang is not None:
                    counts[lang] = counts.get(lang, 0) + 1
        if not counts:
            return None
        lang = max(counts, key=lambda c: (counts[c], c))
        share = counts[lang] / letters
        return _Guess(lang, share) if share >= 0.5 else None

    def _langdetect_only(self, text: str) -> _Guess | None:
        """langdetect's answer, when it is a confident one for a language lingua lacks."""
        detector = self._langdetect.create()
        detector.append(text)
        try:
            candidates = detector.get_probabilities()
        except LangDetectException:
            # "No features in text": nothing langdetect can read, so nothing to add.
            return None
        if not candidates:
            return None
        top = candidates[0]
        code = languages.normalize(top.lang)
        if code in _LANGDETECT_ONLY and top.prob >= LANGDETECT_CONFIDENT:
            return _Guess(code, float(top.prob))
        return None

    @staticmethod
    def _scandinavian(text: str, scores: dict[str, float]) -> _Guess:
        """Danish or Norwegian, then Bokmål or Nynorsk, from marker words and lingua's split.

        Each decision adds marker-word counts to lingua's split (worth more the longer the
        text).  A clear Danish/Norwegian decision is as sure as lingua is that the text is
        one of the three; an unclear one keeps lingua's own score for its favourite, which
        usually leaves a short block unreported.  Norwegian without a clear Nynorsk
        decision is Bokmål.  Whatever stayed unclear goes into `alternatives`.
        """
        words = _WORD.findall(text.lower())
        weight = min(_LINGUA_MAX_MARKERS,
                     sum(len(w) for w in words) / _LINGUA_LETTERS_PER_MARKER)

        def evidence(hits: int, against: int, score: float, other: float) -> float:
            share = score / (score + other) if score + other > 0 else 0.5
            return hits - against + weight * (share - 0.5) * 2

        norwegian = scores["nb"] + scores["nn"]
        family = norwegian + scores["da"]
        danish = evidence(sum(w in _DANISH_MARKERS for w in words),
                          sum(w in _NORWEGIAN_NOT_DANISH for w in words),
                          scores["da"], norwegian)
        if danish >= _MARKER_MARGIN:
            return _Guess("da", family)
        if danish > -_MARKER_MARGIN and scores["da"] > norwegian:
            return _Guess("da", scores["da"], languages.SCANDINAVIAN)
        danish_unclear = danish > -_MARKER_MARGIN
        confidence = norwegian if danish_unclear else family

        nn_hits = nb_hits = 0
        for word in words:
            if word in _NYNORSK_MARKERS:
                nn_hits += 1
            elif word in _BOKMAL_MARKERS:
                nb_hits += 1
            elif len(word) >= 6 and word not in _SUFFIX_EXCEPTIONS:
                nn_hits += word.endswith(_NYNORSK_SUFFIXES)
                nb_hits += word.endswith(_BOKMAL_SUFFIXES)
        nynorsk = evidence(nn_hits, nb_hits, scores["nn"], scores["nb"])
        lang = "nn" if nynorsk >= _MARKER_MARGIN else "nb"
        alternatives = {lang, "da"} if danish_unclear else set()
        if -_MARKER_MARGIN < nynorsk < _MARKER_MARGIN:
            alternatives |= languages.NORWEGIAN
        return _Guess(lang, confidence, frozenset(alternatives))

    @staticmethod
    def _chinese(text: str) -> str:
        """zh-Hant when traditional-only characters outnumber simplified-only ones."""
        simplified = sum(text.count(c) for c in _SIMPLIFIED)
        traditional = sum(text.count(c) for c in _TRADITIONAL)
        return "zh-Hant" if traditional > simplified else "zh"

