"""Language identification of documents and of their blocks, deterministic run to run.

Two detectors, because neither alone covers what a Norwegian newsroom meets:

* **lingua** (75 languages) is the main one.  It does not sample (only the last bits of
  its confidences vary from call to call, so they are rounded), it is markedly better
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
  unclear takes the document's, which has the evidence the block lacks.  Swedish against
  the three is decided before, by letters (ä/ö against æ/ø) and function words.
* Simplified versus Traditional Chinese (NLLB has both, lingua only "Chinese"): counted
  from characters that differ between the two.
* Khmer, Lao, Sinhala and Odia, which neither library knows but NLLB translates, are
  told apart by their script alone: each script is used by that one language.

All-caps text is lower-cased before detection: langdetect's profiles are built from
mixed-case text and lose confidence on capitals ("ALL ARTICLES CAN BE READ..." drops from
0.99 to 0.86), while lingua lower-cases itself anyway.  URLs, e-mail addresses and digits
are removed first since they carry no language but do carry English-looking n-grams.

lingua runs in its low-accuracy mode (trigrams only) for the first pass.  Measured on the
fixtures in ``tests/test_detect.py`` (108 texts, 35 languages) it scored 100 % where the
high-accuracy mode scored 94 % with the same thresholds, and it costs about 0.25 s and
under 100 MB on first use instead of about 6 s and 1.3 GB (preloaded), which matters for
a detector built once per run next to translation models.  Where the first pass is under
90 % sure, the high-accuracy models of just its top three candidates choose among them
(one detector per candidate set, built on first need): on ``../shared/data/langid-dev``
that is one text in fourteen, and it is worth about 1.5 points on single sentences.
Close pairs lingua cannot split (Croatian/Bosnian, Malay/Indonesian, Hindi/Marathi...)
are decided by marker words, as Bokmål/Nynorsk/Danish are; ``scripts/detect_eval.py``
measures all of it.  Its confidences are peaky,
though (three words of names can score 0.94 for Icelandic), which is why a block's
language is only reported above a word count as well as a confidence, and why
capitalised words inside a sentence, mostly names, do not count as words.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from lingua import ConfidenceValue, LanguageDetectorBuilder
from lingua import Language as LinguaLanguage
from lingua import LanguageDetector as LinguaDetector

from multitrans import languages
from multitrans.errors import UserError
from multitrans.pipeline.segment import LONG_TOKEN_CHARS

__all__ = [
    "Detection",
    "DocumentDetection",
    "LanguageDetector",
    "LanguageReport",
    "LanguageUndecided",
    "OtherBlock",
    "TooLittleText",
    "language_name",
    "plain_words",
    "supported_languages",
    "without_names",
]


class LanguageUndecided(UserError):
    """The document's language could not be decided; the user has to name it.

    `reason` is the sentence without translate's remedy (``--from``), for `detect`, which
    has no such option and reports the reason alone.
    """

    def __init__(self, reason: str, remedy: str = "pass --from LANG to name it") -> None:
        super().__init__(f"{reason}; {remedy}.")
        self.reason = f"{reason}."


class TooLittleText(LanguageUndecided):
    """The document holds too little language (dates, numbers, names) to detect one."""


@dataclass(frozen=True)
class Detection:
    """One text's language (our code), or None when too short or unsure; confidence 0..1."""

    lang: str | None
    confidence: float

    def __post_init__(self) -> None:
        # lingua's confidences differ in the last bits from call to call, on one detector
        # instance too (its sums run in hash order), so they are rounded to keep results
        # repeatable.
        object.__setattr__(self, "confidence", _round(self.confidence))


@dataclass(frozen=True)
class DocumentDetection:
    """The document's language, plus each block's own detection in block order.

    `translatable` is False for a language the detector knows and no engine translates
    from (Latin); only ``detect_document(..., best_guess=True)`` returns one.
    """

    lang: str
    confidence: float
    blocks: list[Detection] = field(default_factory=list)
    translatable: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "confidence", _round(self.confidence))


@dataclass(frozen=True)
class OtherBlock:
    """A block detected in another language than its document's."""

    id: int
    language: str
    confidence: float
    text: str


@dataclass(frozen=True)
class LanguageReport:
    """What `multitrans detect` says about one file: its language, or why there is none.

    Exactly one of `language` and `error` is set.  `note` says what a user should know
    about a language found (that no route translates from it).
    """

    file: str
    language: str | None = None
    confidence: float | None = None
    translatable: bool | None = None
    other_blocks: list[OtherBlock] = field(default_factory=list)
    note: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, file: str, block_ids: Sequence[int], block_texts: Sequence[str],
           found: DocumentDetection) -> LanguageReport:
        others = [
            OtherBlock(i, d.lang, round(d.confidence, 3), text)
            for i, text, d in zip(block_ids, block_texts, found.blocks, strict=True)
            if d.lang is not None and d.lang != found.lang
        ]
        note = None if found.translatable else (
            f"{language_name(found.lang)}: no route translates from it")
        return cls(file, found.lang, round(found.confidence, 3), found.translatable, others, note)

    @classmethod
    def failed(cls, file: str, error: str) -> LanguageReport:
        return cls(file, error=error)


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
# What `detect` still reports (with its confidence) where translation would refuse: on
# ../shared/data/langid-dev single sentences about half of the answers between 0.30 and
# 0.50 are right, too few to translate from but worth showing to someone who asked.
MIN_REPORTED_CONFIDENCE = 0.30
# Below this lingua is "unsure" and langdetect may add a language lingua lacks.
LINGUA_UNSURE = 0.50
LANGDETECT_CONFIDENT = 0.90
# Below this confidence of the fast (trigram) pass, lingua's high-accuracy models (one- to
# five-grams) are asked to choose among the fast pass's top candidates.  Measured on
# ../shared/data/langid-dev (single sentences) this lifts accuracy by about 1.5 points
# while one text in fourteen takes the slower path; texts the fast pass is sure of (most
# paragraphs, the sample article entire) never load a high-accuracy model.
HIGH_ACCURACY_BELOW = 0.90
HIGH_ACCURACY_CANDIDATES = 3

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
# Any character of those scripts: text without one (nearly all text) skips the count.
_SCRIPT_LANGUAGE_CHARS = re.compile(
    languages.script_class(languages.get(code).script for code in ("km", "lo", "si", "or")))

# --- Norwegian and Danish ---------------------------------------------------------------
# Words that only one written standard uses.  Both lists hold common function words, so
# a paragraph of either standard has several; a-infinitive forms are Nynorsk too.
_NYNORSK_MARKERS = frozenset(["ikkje", "eg", "frå", "kva", "korleis", "kvifor", "kven", "kor", "dei", "berre", "mykje", "vere", "vera", "vore", "vorte", "òg", "kvar", "noko", "nokon", "nokre", "meir", "sjølv", "fekk", "ho", "hjå", "heile", "fleire", "difor", "sidan", "medan", "utan", "ein", "eit", "vart", "hennar", "deira", "dykk", "no", "enno", "framleis", "saman", "gjere", "gjera", "seie", "seia", "veke", "kyrkje", "førre", "bede", "då", "dessutan", "eigen", "eige", "kjem", "kome", "gjekk", "ligg", "trur", "gjer", "meiner", "treng", "synest", "finst", "veit", "tek", "desse", "annan", "pengar", "måtar", "allereie", "endå", "heim", "heime", "verda", "noreg", "spele"])
_BOKMAL_MARKERS = frozenset(["ikke", "jeg", "fra", "hva", "hvordan", "hvorfor", "hvem", "hvor", "de", "bare", "mye", "være", "vært", "også", "hver", "noe", "noen", "mer", "selv", "fikk", "hun", "hele", "flere", "siden", "uten", "en", "et", "ble", "hennes", "deres", "dere", "nå", "ennå", "fortsatt", "sammen", "gjøre", "uke", "kirke", "forrige", "bedt", "dessuten", "egen", "eget", "kommer", "kommet", "gikk", "ligger", "tror", "gjør", "mener", "trenger", "synes", "finnes", "vet", "sier", "disse", "annen", "annet", "penger", "måter", "allerede", "fremdeles", "frem", "hjem", "hjemme", "verden", "sted", "stedet", "mennesker", "ham", "dem", "man", "kun", "meget", "hvis", "norge", "spille"])
# Danish against Norwegian (either standard): short Bokmål sentences often score as
# Danish in lingua, and the other way round.
_DANISH_MARKERS = frozenset(["hvad", "af", "nogen", "noget", "efter", "mig", "dig", "sig", "nu", "lidt", "blev", "bliver", "blevet", "været", "sige", "spørge", "tilbage", "sådan", "måske", "igen", "os", "jer", "nej", "gerne", "næste", "købe", "tænke", "kende", "øjeblik", "hvornår", "ud", "op", "mellem", "uden", "hjælpe", "spørgsmål", "vores", "jeres", "gik", "gør", "trænger", "penge", "anden", "andet", "måder", "findes"])
_NORWEGIAN_NOT_DANISH = _NYNORSK_MARKERS | frozenset(["hva", "noen", "noe", "etter", "meg", "deg", "seg", "litt", "ble", "blir", "blitt", "vært", "si", "spørre", "tilbake", "sånn", "kanskje", "igjen", "oss", "dere", "nei", "gjerne", "neste", "kjøpe", "tenke", "kjenne", "øyeblikk", "mye", "vet", "ut", "opp", "mellom", "uten", "hjelpe", "spørsmål", "fikk", "liten", "sier", "gikk", "gjør", "trenger", "penger", "annen", "annet", "måter", "finnes"])
# Adjective endings: Nynorsk -leg/-lege ("sørvestlege"), Bokmål -lig/-lige ("sørvestlige");
# present participles: Nynorsk -ande ("rullerande"), Bokmål -ende ("grunnleggende"); nouns:
# Nynorsk -heit ("tryggleiksheit"), -inga/-ingar/-ingane ("meldinga"), -arar/-arane
# ("lærarar"), superlative -aste; Bokmål -het ("sikkerhet"), -inger/-ingene.  Not -ingen,
# which Nynorsk writes for masculine nouns ("bygningen"), nor plain -ar ("dollar", "forsvar").
_NYNORSK_SUFFIXES = ("leg", "lege", "legt", "legare", "legaste", "ande", "heit", "heita",
                     "heiter", "heitene", "inga", "ingar", "ingane", "arar", "arane", "aste")
_BOKMAL_SUFFIXES = ("lig", "lige", "ligt", "ligere", "ligste", "ende", "het", "heten", "heter",
                    "hetene", "inger", "ingene")
_SUFFIX_EXCEPTIONS = frozenset({"college", "colleges", "privilege", "privileges"})
# lingua's split between two close languages counts as up to one marker word per 40
# letters of text (on a five-word heading it is close to a coin toss), at most one: on
# ../shared/data/langid-dev a larger cap let lingua's peaky split outvote three or four
# marker words on a paragraph (Bokmål documents 0.85 read as Bokmål with a cap of four,
# 0.94 with one); this much net evidence makes a decision clear.
_LINGUA_LETTERS_PER_MARKER = 60
_LINGUA_MAX_MARKERS = 1.0
_MARKER_MARGIN = 0.5
# Swedish against Danish and Norwegian: lingua reads Apertium's Swedish with a Norwegian word
# left in as Nynorsk ("Sky Bluesanfallsspelaren sände balen in i nätet rätt innan den var över
# dødlinja", 100 %) and Nynorsk as Swedish ("Bough er no ein gift mann, spleisa med ein
# ubåtkommandant...", 99 %).  Swedish writes ä and ö where the other two write æ and ø, and its commonest
# function words are its own, so ordinary words (names left out: "Köln", "Göteborg") decide,
# one of them outweighing lingua's split as for the other close pairs below.  None of the
# Swedish words occurs in NTREX's 3,000 Danish, Bokmål and Nynorsk lines, nor the others in
# its Swedish ones.
_SWEDISH_LETTERS = frozenset("äö")
_DANO_NORWEGIAN_LETTERS = frozenset("æø")
_SWEDISH_MARKERS = frozenset(["och", "inte", "jag", "att", "hon", "vad", "från", "till", "också", "mycket", "ska", "vara", "hade", "sedan", "måste", "kunde", "något", "några", "många", "honom"])
_DANO_NORWEGIAN_MARKERS = frozenset(["og", "er", "ikke", "ikkje", "jeg", "eg", "ein", "eit", "et", "hun", "hva", "kva", "hvad", "fra", "frå", "til", "også", "òg", "mye", "mykje", "meget", "skal", "være", "vere", "ved", "hadde", "havde", "etter", "bare", "berre", "kun", "noe", "noko", "noget", "no", "seg", "meg", "deg", "af"])
_NORDIC = languages.SCANDINAVIAN | {"sv"}

# --- other close pairs ------------------------------------------------------------------
# lingua's split between Malay and Indonesian, or Croatian and Bosnian, is nearly a coin
# toss even on a paragraph (three Bosnian sentences score Croatian 0.96), so spelling and
# vocabulary that only one of each pair uses decide: one marker word outweighs lingua's
# split, which only picks the favourite when there is none.
_PAIR_LINGUA_WEIGHT = 0.4


@dataclass(frozen=True)
class _PairRule:
    """Words (and word beginnings or endings) that only one language of a close pair writes."""

    first: str
    second: str
    first_words: frozenset[str]
    second_words: frozenset[str]
    first_affixes: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # prefixes, suffixes
    second_affixes: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    # A preposition the second language writes in its long form where the first writes
    # the short one, and the word beginnings before which both write the long form.
    second_long_preposition: tuple[str, tuple[str, ...]] | None = None
    # Letters only one of the two alphabets has: a word holding one counts as a marker.
    first_letters: str = ""
    second_letters: str = ""

    def hits(self, words: Sequence[str]) -> tuple[int, int]:
        first = second = 0
        if self.second_long_preposition is not None:
            long, before = self.second_long_preposition
            second += sum(word == long and not following.startswith(before)
                          for word, following in itertools.pairwise(words))
        for word in words:
            if word in self.first_words:
                first += 1
            elif word in self.second_words:
                second += 1
            elif self.first_letters and any(c in self.first_letters for c in word):
                first += 1
            elif self.second_letters and any(c in self.second_letters for c in word):
                second += 1
            elif len(word) >= 6:
                first += _affixed(word, self.first_affixes)
                second += _affixed(word, self.second_affixes)
        return first, second


_PUNCTUATION = ".,;:!?¿¡'\"«»“”„‘’()[]{}–—-…/|।॥*"


def _spaced_words(text: str) -> list[str]:
    """Lower-cased words split at spaces: `_WORD` would cut Devanagari words at their vowel
    signs, which are marks, not letters."""
    words = (word.strip(_PUNCTUATION) for word in text.lower().split())
    return [word for word in words if word]


def _affixed(word: str, affixes: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    prefixes, suffixes = affixes
    return word.startswith(prefixes) or word.endswith(suffixes)


_MONTHS_HR = "siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga prosinca"
_MONTHS_INTERNATIONAL = ("januar januara februar februara marta aprila juna jula augusta avgusta "
                         "septembar septembra oktobar oktobra novembar novembra decembar decembra")
_CROATIAN_BOSNIAN = _PairRule(
    "hr", "bs",
    first_words=frozenset(f"""
        {_MONTHS_HR} siječanj veljača ožujak travanj svibanj lipanj srpanj kolovoz rujan
        listopad studeni prosinac tko tijekom tjedan tjedna tjednu kruh vlak vlakom obitelj
        obitelji tvrtka tvrtke tvrtku tvrtki znanost znanosti uopće općenito točno točka
        točan otok otoka sustav sustava sustavi njezin njezina njezino njezinog njezine
        podrijetlo podrijetla dobiva dobivaju tržnica tržnice uvjet uvjeti uvjeta uvjetima
        plin kuna kuna kune glede sukladno temeljem spol sudac mirovina mirovine izravno
        izravni momčad momčadi izbornik zapovjednik natječaj natječaja prosvjed prosvjeda
        prosvjedi natjecanje natjecanja udruga udruge obrana obrane obrani osobno osobni
        osobna osobne osobnog tajnik tajnika tajnica stupanj stupnja
    """.split()),
    second_words=frozenset(f"""
        {_MONTHS_INTERNATIONAL} ko hljeb voz vozom porodica porodice porodici porodicu
        firma firme uopšte tačno tačka tačan ostrvo ostrva sistem sistema sistemi njen
        njena njeno njenog njenom njene porijeklo porijekla dobija dobijaju pijaca pijace
        uslov uslovi uslova uslovima vijek vijeka vijeku penzija direktno sudija takmičenje
        takmičenja udruženje konkurs opština opštine takođe nauka nauke nauci nauku obzirom
        tokom šta lično lični lična lične ličnog spisak spiska sprat sprata spratu pasoš
        stepen stepena desio desila desilo desili
    """.split()),
    first_affixes=(("europ", "povijes", "znanstven", "glazb", "kazališ", "sveučiliš", "tisuć",
                    "nogomet", "zrakoplov", "milijun", "veleposlan", "sudjelov", "izvješ",
                    "priopć", "kemij", "natjecatelj", "dužnosni", "redatelj", "ravnatelj",
                    "suradn", "odgoj", "tvornic", "putovnic", "inozem", "izvanredn", "računal",
                    "nazočn"), ()),
    second_affixes=(("evrop", "histori", "istorij", "hiljad", "sedmic", "muzik", "muzič",
                     "pozoriš", "univerzit", "naučn", "hemij", "milion", "izvještaj", "zvaničn",
                     "učestvov", "fudbal", "ambasad", "komandant", "opštin", "bezbed",
                     "takmič", "reditelj", "odbran", "odbramb", "sudij", "saradn", "vaspit",
                     "dešav", "kancelarij", "bioskop", "fabrik", "inostran", "vanredn", "spoljn",
                     "bezbjed", "računar", "komšij", "ubjedljiv", "ubijeđ"), ()),
    # Croatian writes "s" ("s ljudima"), and "sa" only before s, z, š, ž ("sa sobom") or
    # "mnom"; Bosnian and Serbian write "sa" before any word ("sa ljudima").
    second_long_preposition=("sa", ("s", "z", "š", "ž", "mnom")),
)
_MALAY_INDONESIAN = _PairRule(
    "ms", "id",
    first_words=frozenset(["kerana", "iaitu", "bahawa", "kerajaan", "selepas", "semasa", "sahaja", "ogos", "mac", "julai", "disember", "filem", "polis", "telefon", "syarikat", "pelbagai", "manakala", "menerusi", "sukan", "berhampiran", "cuba", "boleh", "tentera", "hadapan", "percuma", "persekutuan", "kenderaan", "jabatan", "mesyuarat", "wang", "ialah", "bandar", "perlawanan", "jurulatih", "lelaki", "isteri", "hospital", "doktor", "sekiranya", "bagaimanapun", "berbanding", "tempatan", "antarabangsa", "setiausaha", "majlis", "awam", "akhbar", "televisyen", "pejabat", "muzik", "jepun", "inggeris", "perancis", "sepanyol", "itali", "eropah", "beliau", "kumpulan", "sekadar", "selesa"]),
    second_words=frozenset(["karena", "yaitu", "bahwa", "pemerintah", "sesudah", "saja", "agustus", "maret", "juni", "juli", "desember", "film", "polisi", "mobil", "telepon", "serikat", "berbagai", "olahraga", "coba", "bisa", "tentara", "gratis", "kendaraan", "uang", "pengadilan", "kelompok", "pelatih", "bandara", "istri", "dokter", "dibandingkan", "lokal", "internasional", "sekretaris", "koran", "televisi", "kantor", "musik", "jepang", "inggris", "prancis", "spanyol", "italia", "eropa", "tiongkok", "nggak", "enggak", "banget", "bilang", "perusahaan", "sekedar", "kebijakan", "nyaman"]),
    first_affixes=((), ("iti",)),  # universiti, aktiviti, kualiti
    second_affixes=((), ("itas",)),  # universitas, aktivitas, kualitas
)
# Hindi and Marathi share Devanagari and much vocabulary, never their grammatical words.
_HINDI_MARATHI = _PairRule(
    "hi", "mr",
    first_words=frozenset(["है", "हैं", "का", "के", "में", "से", "को", "और", "नहीं", "था", "थे", "थी", "यह", "वह", "लिए", "भी", "किया", "गया", "इस", "उस", "रहा", "रही", "रहे", "गई", "हुआ", "हुई", "अपने"]),
    second_words=frozenset(["आहे", "आहेत", "च्या", "मध्ये", "आणि", "नाही", "हे", "ते", "केले", "त्यांनी", "असे", "म्हणून", "करण्यात", "आली", "झाले", "येथे", "त्या", "त्याच्या", "तसेच", "आला", "आले", "असून", "केली", "नव्हते", "हा", "काही", "पण", "नाहीत", "तेव्हा", "देखील", "असं", "होतं", "तिथं", "आम्ही"]),
    # Marathi's genitive (-चा, -ची, -चे, -च्या), plural agent (-ांनी) and participle (-ल्या).
    second_affixes=((), ("ाचा", "ाची", "ाचे", "च्या", "ांनी", "ल्या")),
)
# Catalan and Spanish: their grammatical words differ, lingua's n-grams overlap on a phrase.
_CATALAN_SPANISH = _PairRule(
    "ca", "es",
    first_words=frozenset(["amb", "però", "més", "els", "dels", "és", "són", "aquest", "aquesta", "aquests", "aquestes", "perquè", "també", "molt", "fins", "seva", "seu", "seus", "seves", "va", "van", "hi", "ha", "nostra", "nostre", "cap", "any", "anys", "molt", "molts", "mateix", "i", "lloc", "ciutat", "després", "sobre", "entre"]) - frozenset(["sobre", "entre"]),
    second_words=frozenset(["y", "los", "con", "pero", "más", "muy", "también", "está", "están", "porque", "hasta", "sus", "fue", "fueron", "este", "esta", "estos", "estas", "año", "años", "mismo", "ciudad", "después", "lugar", "desde", "cuando", "donde"]),
)
# Urdu and Persian share the Arabic script and many loanwords, not their grammatical words.
_URDU_PERSIAN = _PairRule(
    "ur", "fa",
    first_words=frozenset(["کے", "کی", "ہے", "ہیں", "میں", "اور", "سے", "کو", "نے", "یہ", "وہ", "کا", "تھا", "تھی", "تھے", "لیے", "بھی", "کیا", "گیا", "ہو", "اپنے"]),
    second_words=frozenset(["است", "که", "را", "از", "این", "با", "می", "های", "برای", "آن", "بود", "شد", "هم", "خود", "شده", "کرد", "بر", "نیز", "تا"]),
)
# Pairs whose alphabets differ in a few letters, which settle a sentence lingua splits.
_SERBIAN_MACEDONIAN = _PairRule("sr", "mk", frozenset(), frozenset(), first_letters="ђћ", second_letters="ѓќѕ")
_UKRAINIAN_KAZAKH = _PairRule("uk", "kk", frozenset(), frozenset(), first_letters="їєґ",
                              second_letters="әғқңөұүһ")
_AFRIKAANS_DUTCH = _PairRule(
    "af", "nl",
    first_words=frozenset(["nie", "ek", "jy", "hulle", "baie", "vir", "gewees", "sal", "hierdie", "daardie", "mense", "nuwe", "sy", "hom"]),
    second_words=frozenset(["niet", "zijn", "ik", "zij", "wij", "naar", "worden", "zal", "deze", "wordt", "ze", "mensen", "nieuwe", "heeft", "hebben", "bij"]),
)
_PAIR_RULES = {lang: rule for rule in (_CROATIAN_BOSNIAN, _MALAY_INDONESIAN, _HINDI_MARATHI, _AFRIKAANS_DUTCH,
                                       _CATALAN_SPANISH, _URDU_PERSIAN,
                                       _SERBIAN_MACEDONIAN, _UKRAINIAN_KAZAKH)
               for lang in (rule.first, rule.second)}

# --- Chinese -----------------------------------------------------------------------------
# Frequent characters written differently in the two scripts, simplified then traditional.
_SIMPLIFIED = ("这们国说为时会来对个发经学过东没还进长问关开见实现动种样报战与华总"
               "机电军员门间业产务将从应书义让认读语请谈话车马鸟鱼龙风飞钱银")
_TRADITIONAL = ("這們國說為時會來對個發經學過東沒還進長問關開見實現動種樣報戰與華總"
                "機電軍員門間業產務將從應書義讓認讀語請談話車馬鳥魚龍風飛錢銀")

_HANGUL = re.compile(languages.script_class(["Hang"]))
# An over-long token (segment.LONG_TOKEN_CHARS) says nothing about the language and goes first:
# the e-mail pattern, tried at each of its characters, would cost time quadratic in its length.
_URL = re.compile(rf"\S{{{LONG_TOKEN_CHARS},}}|(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
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


def without_names(text: str) -> str:
    """Text less its capitalised words inside sentences, which are mostly names."""
    kept = []
    last = 0
    for match in _WORD.finditer(text):
        if match.group()[0].isupper() and not _starts_sentence(text, match.start()):
            kept.append(text[last:match.start()])
            last = match.end()
    kept.append(text[last:])
    return " ".join("".join(kept).split())


def _swedish_or_not(text: str, scores: dict[str, float]) -> dict[str, float]:
    """lingua's scores, with the combined score of Swedish, Danish and Norwegian given to
    Swedish or shared out among the other three when the ordinary words decide."""
    words = _WORD.findall(without_names(text).lower())
    swedish = sum(w in _SWEDISH_MARKERS or not _SWEDISH_LETTERS.isdisjoint(w) for w in words)
    other = sum(w in _DANO_NORWEGIAN_MARKERS or not _DANO_NORWEGIAN_LETTERS.isdisjoint(w) for w in words)
    nordic = sum(scores[c] for c in _NORDIC)
    split = (scores["sv"] / nordic - 0.5) * 2 * _PAIR_LINGUA_WEIGHT if nordic > 0 else 0.0
    evidence = swedish - other + split
    if evidence >= _MARKER_MARGIN:
        return {**scores, "sv": nordic, **{c: 0.0 for c in languages.SCANDINAVIAN}}
    if evidence > -_MARKER_MARGIN:
        return scores
    family = nordic - scores["sv"]
    share = {c: scores[c] / family if family > 0 else 1 / 3 for c in languages.SCANDINAVIAN}
    return {**scores, "sv": 0.0, **{c: nordic * share[c] for c in languages.SCANDINAVIAN}}


# Strong evidence that text is not in the language it should be in: at least this many words
# that are not names, read at least this confidently.  One rule for two decisions measured on
# NTREX's lines 1-1000: with --from, a Bokmål block leaves Bokmål only on it (a German misreading
# at 0.84 and a Welsh one of a line of names at 0.99 stay, while 9 in 10 English or German
# lines and the sample article's English header and footer still leave); and output into a
# close relative of the source is flagged as another relative only on it (no correct Apertium
# sentence into nn, da or sv is, while Norwegian output for a Swedish target still is).
STRONG_EVIDENCE_WORDS = 6
STRONG_EVIDENCE_CONFIDENCE = 0.95


def strong_evidence(text: str, confidence: float) -> bool:
    """Whether a reading of `text` at `confidence` may overrule what the language should be."""
    return confidence >= STRONG_EVIDENCE_CONFIDENCE and plain_words(text) >= STRONG_EVIDENCE_WORDS


def plain_words(text: str) -> float:
    """How many words of `text` count towards a language: names and numbers do not, and a
    word of an unspaced script is two characters."""
    return _prepare(text).words


def _prepare(raw: str) -> _Prepared:
    """Strip what carries no language and measure what is left.

    Capitalised words inside a sentence are mostly names ("Talsmann John Kirby") and say
    nothing about the language around them, so they do not count towards the word
    thresholds (they still go to the detectors).  Words in unspaced scripts are estimated
    as two characters each, so a Chinese sentence clears the same thresholds as its
    English translation.
    """
    text = _DIGITS.sub(" ", _URL.sub(" ", unicodedata.normalize("NFC", raw)))
    upper = sum(map(str.isupper, text))
    cased = upper + sum(map(str.islower, text))
    if cased and upper >= 0.9 * cased:
        text = text.lower()
    text = " ".join(text.split())
    letters = 0
    words = 0.0
    # Most text has neither Hangul nor an unspaced script: then no word needs looking into.
    hangul = _HANGUL.search(text) is not None
    unspaced_text = languages.count_unspaced(text) > 0
    for match in _WORD.finditer(text):
        token = match.group()
        # A Hangul syllable block writes two or three letters (jamo).
        letters += len(token) + (len(_HANGUL.findall(token)) if hangul else 0)
        unspaced = languages.count_unspaced(token) if unspaced_text else 0
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
# Languages lingua knows and no engine translates from, by ISO 639-1 code, with their
# English names: what `multitrans detect` reports for them.
_UNTRANSLATABLE = {
    lang.iso_code_639_1.name.lower(): lang.name.title()
    for lang, code in _LINGUA_CODES.items() if code is None
}


def language_name(code: str) -> str:
    """The English name of any language the detector can report, translatable or not."""
    return _UNTRANSLATABLE.get(code) or languages.name(code)


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
    one of them can claim the block; `unsupported` is the code of a language lingua found
    that NLLB cannot translate (lang is then None).
    """

    lang: str | None
    confidence: float
    alternatives: frozenset[str] = frozenset()
    unsupported: str | None = None


_NO_GUESS = _Guess(None, 0.0)
# lingua's fast-pass values per prepared text, computed ahead for a batch of texts.
_FastPass = dict[str, list[ConfidenceValue]]


def _enough_for_block(prepared: _Prepared) -> bool:
    """Whether a block holds enough language to be judged at all."""
    return prepared.words >= MIN_BLOCK_WORDS and prepared.letters >= MIN_BLOCK_LETTERS


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
        self._precise_by_candidates: dict[frozenset[LinguaLanguage], LinguaDetector] = {}

    def _precise(self, candidates: frozenset[LinguaLanguage]) -> LinguaDetector:
        """A high-accuracy detector for just these languages, built on first need.

        Building one is cheap; what costs is each language's high-accuracy model (about
        15 MB, a tenth of a second), which lingua loads once per process on first use, so
        memory grows only with the languages that were ever in doubt.
        """
        detector = self._precise_by_candidates.get(candidates)
        if detector is None:
            detector = LanguageDetectorBuilder.from_languages(*candidates).build()
            self._precise_by_candidates[candidates] = detector
        return detector

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

    def detect(self, text: str, *, target: str | None = None) -> Detection:
        """One block's language, None when the text is too short or the detectors unsure.

        `target` is the language the text should be in (the quality check's question: is this
        translation in its target?).  The high-accuracy pass is then asked only when the target
        is among the fast pass's top candidates: a broken model's garbled output, which the
        fast pass is rightly unsure of, would otherwise load a high-accuracy model for each
        language it happens to resemble (about 15 MB each).
        """
        return self._block(_prepare(text), target).detection

    def detect_many(self, texts: Sequence[str], *, target: str | None = None) -> list[Detection]:
        """Each text's language, exactly as `detect` answers it text by text.

        For callers about to ask about many texts at once (a run's blocks, a run's outputs):
        lingua's fast pass runs for all of them in one call, spread over the machine's cores,
        instead of a call per text; every decision after it is `detect`'s own.
        """
        return [block.detection for block in self._blocks([_prepare(t) for t in texts], target)]

    def detect_document(
        self, block_texts: Sequence[str], *, best_guess: bool = False
    ) -> DocumentDetection:
        """The document's language from all its text, and each block's own detection.

        The document is judged on the concatenated text, so every block weighs by its
        length and the English header line of a Norwegian article cannot outvote it.
        A block whose Bokmål/Nynorsk (or Danish/Norwegian) decision stayed unclear takes
        the document's language when that is one of the candidates: the document has the
        evidence the block lacks.  A language no engine translates from (Latin) is refused
        as undecided, since translating it as its nearest neighbour would be worse.  With
        `best_guess` (for a caller that wants to know the language, not to translate) it is
        returned instead, marked not translatable, and so is a guess down to
        MIN_REPORTED_CONFIDENCE.
        """
        prepared = _prepare("\n".join(block_texts))
        if prepared.words < MIN_DOCUMENT_WORDS or prepared.letters < MIN_DOCUMENT_LETTERS:
            raise TooLittleText("The document has too little text to detect its language")
        guess = self._identify(prepared.text)
        translatable = True
        if guess.lang is None and guess.unsupported is not None:
            if not best_guess:
                raise LanguageUndecided(
                    f"The document seems to be in {language_name(guess.unsupported)}, which "
                    "multitrans cannot translate from", "pass --from LANG if that is wrong")
            guess = _Guess(guess.unsupported, guess.confidence)
            translatable = False
        if guess.lang is None:
            raise LanguageUndecided("The document's language could not be recognized")
        if guess.confidence < (MIN_REPORTED_CONFIDENCE if best_guess else MIN_DOCUMENT_CONFIDENCE):
            raise LanguageUndecided(
                "The document's language could not be decided "
                f"(best guess {language_name(guess.lang)}, {guess.confidence:.0%} sure)"
            )
        texts = [_prepare(text) for text in block_texts]
        found_blocks = self._blocks(texts)
        # Blocks read as another language get a second look without their names: their
        # name-less texts go to lingua together as well.
        disputed = [
            i for i, block in enumerate(found_blocks)
            if block.detection.lang not in (None, guess.lang) and guess.lang not in block.guess.alternatives
        ]
        fast = self._fast_pass([words for i in disputed if (words := without_names(texts[i].text)) != texts[i].text])
        blocks = []
        for text, block in zip(texts, found_blocks, strict=True):
            found = block.detection
            if found.lang not in (None, guess.lang) and (
                guess.lang in block.guess.alternatives
                or self._document_wins(text.text, found.lang, guess.lang, fast)
            ):
                found = Detection(guess.lang, found.confidence)
            blocks.append(found)
        return DocumentDetection(guess.lang, guess.confidence, blocks, translatable)

    def _document_wins(
        self, prepared: str, block_lang: str, document_lang: str, fast: _FastPass | None = None
    ) -> bool:
        """Whether a block read as another language than its document's reads as the
        document's (or a close one) once the names in it are left out.

        The fast pass reads a Bokmål sentence full of names as German or Welsh ("Anmeldelse
        av Johnny English Strikes Again – blodfattig Rowan Atkinson i spionparodi" scores
        Welsh 0.99); its own words say Norwegian.  A real English header line in a
        Norwegian article (in capitals, so nothing in it counts as a name) stays English.
        lingua's high-accuracy models would settle this as well, but the English one alone
        costs about 0.4 s and 90 MB on every article with an English line.
        """
        words = without_names(prepared)
        if words == prepared:
            return False
        guess = self._identify(words, fast=fast)
        return guess.lang is not None and guess.lang != block_lang and (
            guess.lang == document_lang or languages.are_close(guess.lang, document_lang, "block"))

    # --- the decision ------------------------------------------------------------------

    def _blocks(self, texts: Sequence[_Prepared], target: str | None = None) -> list[_Block]:
        """`_block` for each text, with lingua's fast pass for all of them done at once."""
        fast = self._fast_pass([p.text for p in texts if _enough_for_block(p)])
        return [self._block(prepared, target, fast) for prepared in texts]

    def _fast_pass(self, texts: Sequence[str]) -> _FastPass:
        """lingua's fast-pass values for each distinct text, from one multithreaded call.

        Its values are those of one call per text except in the last bits, which differ
        between any two calls as well (its sums run in hash order); `Detection` rounds them.
        Text in a script `_by_script` decides never reaches lingua, so it is left out.
        """
        unique = list(dict.fromkeys(t for t in texts if not _SCRIPT_LANGUAGE_CHARS.search(t)))
        if len(unique) < 2:
            return {}
        return dict(zip(unique, self._lingua.compute_language_confidence_values_in_parallel(unique)))

    def _block(self, prepared: _Prepared, target: str | None = None, fast: _FastPass | None = None) -> _Block:
        """A block's guess and what of it is reported after the thresholds."""
        if not _enough_for_block(prepared):
            return _Block(_NO_GUESS, Detection(None, 0.0))
        guess = self._identify(prepared.text, target, fast)
        if guess.lang is None or guess.confidence < MIN_BLOCK_CONFIDENCE:
            return _Block(guess, Detection(None, guess.confidence))
        return _Block(guess, Detection(guess.lang, guess.confidence))

    def _identify(self, text: str, target: str | None = None, fast: _FastPass | None = None) -> _Guess:
        """Best language for prepared text and its confidence, before any threshold.

        A language lingua knows but NLLB does not (Latin) comes back as lang None with
        its confidence, so callers can tell "unsupported" from "unsure".  `fast` holds
        lingua's fast pass already done for this text, if it was.
        """
        by_script = self._by_script(text)
        if by_script is not None:
            return by_script
        scores: dict[str, float] = {}
        unsupported: tuple[float, str] = (0.0, "")
        for language, value in self._lingua_scores(text, target, fast).items():
            code = _LINGUA_CODES[language]
            if code is not None:
                scores[code] = value
            elif value > unsupported[0]:
                unsupported = (value, language.iso_code_639_1.name.lower())
        if not scores:
            return _NO_GUESS
        best = max((value, code) for code, value in scores.items())[1]
        confidence = scores[best]
        if (confidence < LINGUA_UNSURE or best in _MAY_HIDE_LANGDETECT_ONLY) and _LANGDETECT_ONLY_SCRIPTS.search(text):
            extra = self._langdetect_only(text)
            if extra is not None:
                return extra
        if unsupported[0] > confidence:
            return _Guess(None, unsupported[0], unsupported=unsupported[1])
        if confidence == 0.0:  # a script lingua has no model for
            return _NO_GUESS
        if best in _NORDIC:
            scores = _swedish_or_not(text, scores)
            if scores["sv"] > max(scores[c] for c in languages.SCANDINAVIAN):
                return _Guess("sv", scores["sv"])
            return self._scandinavian(text, scores)
        if best in _PAIR_RULES:
            return self._close_pair(text, scores, _PAIR_RULES[best])
        if best == "zh":
            return _Guess(self._chinese(text), confidence)
        return _Guess(best, confidence)

    def _lingua_scores(
        self, text: str, target: str | None = None, fast: _FastPass | None = None
    ) -> dict[LinguaLanguage, float]:
        """lingua's confidence per language: the fast pass, refined where it is unsure.

        The high-accuracy pass only reorders the fast pass's top candidates: it shares
        out their combined confidence, so its answer is never surer than the fast pass
        was that the text is one of them.
        """
        values = fast.get(text) if fast else None
        if values is None:
            values = self._lingua.compute_language_confidence_values(text)
        scores = {value.language: value.value for value in values}
        if (not values or values[0].value >= HIGH_ACCURACY_BELOW
                or _LINGUA_CODES[values[0].language] in languages.SCANDINAVIAN):
            return scores
        candidates = [v.language for v in values[:HIGH_ACCURACY_CANDIDATES] if v.value > 0.0]
        if len(candidates) < 2 or (
                target is not None and all(_LINGUA_CODES[c] != target for c in candidates)):
            return scores
        share = sum(scores[language] for language in candidates)
        refined = self._precise(frozenset(candidates)).compute_language_confidence_values(text)
        for value in refined:
            scores[value.language] = value.value * share
        return scores

    @staticmethod
    def _by_script(text: str) -> _Guess | None:
        """Khmer, Lao, Sinhala or Odia when most letters are in that language's own script."""
        counts: dict[str, int] = {}
        for char in _SCRIPT_LANGUAGE_CHARS.findall(text):
            if char.isalpha():
                lang = _ranges_contain(char, _SCRIPT_LANGUAGES)
                if lang is not None:
                    counts[lang] = counts.get(lang, 0) + 1
        if not counts:
            return None
        lang = max(counts, key=lambda c: (counts[c], c))
        share = counts[lang] / sum(map(str.isalpha, text))
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
    def _close_pair(text: str, scores: dict[str, float], rule: _PairRule) -> _Guess:
        """One of a close pair by its marker words, lingua's split counting for less than one.

        A clear decision is as sure as lingua is that the text is one of the two; without
        one lingua's favourite stands, with its own score, and the other is an alternative.
        """
        first, second = rule.hits(_spaced_words(text))
        a, b = scores[rule.first], scores[rule.second]
        split = (a / (a + b) - 0.5) * 2 * _PAIR_LINGUA_WEIGHT if a + b > 0 else 0.0
        evidence = first - second + split
        if evidence >= _MARKER_MARGIN:
            return _Guess(rule.first, a + b)
        if evidence <= -_MARKER_MARGIN:
            return _Guess(rule.second, a + b)
        lang = rule.first if a >= b else rule.second
        return _Guess(lang, a + b, frozenset({rule.first, rule.second}))

    @staticmethod
    def _chinese(text: str) -> str:
        """zh-Hant when traditional-only characters outnumber simplified-only ones."""
        simplified = sum(text.count(c) for c in _SIMPLIFIED)
        traditional = sum(text.count(c) for c in _TRADITIONAL)
        return "zh-Hant" if traditional > simplified else "zh"

