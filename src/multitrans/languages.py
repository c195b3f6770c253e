"""Language codes: one table that every other module asks, so no module invents its own.

The table holds every language NLLB-200 knows (its 202 FLORES-200 codes), because NLLB is
the widest engine we have: a language missing here could not be translated at all.  Our
own code for a language is ISO 639-1 where one exists, else ISO 639-3, and a script
suffix (``zh-Hant``, ``ks-Deva``) only where NLLB holds the same language in two scripts.
That keeps command lines short (``--to de,fr,nn``) and file names readable (``article.nn.txt``).

Where NLLB names an *individual* language inside an ISO macrolanguage (``arb`` Standard
Arabic, ``pes`` Western Persian, ``zsm`` Standard Malay, ``lvs`` Standard Latvian ...) and
that individual language is what people mean by the macrolanguage's ISO 639-1 code, the
row takes the 639-1 code; the macrolanguage's 639-3/639-2 codes (``ara``, ``fas``,
``per``, ``msa``, ``nor``, ``zho`` ...) are accepted as aliases.  Regional varieties that
NLLB also holds (Egyptian Arabic ``arz``, Dari ``prs``, Cantonese ``yue`` ...) keep their
own 639-3 code, so asking for ``ar`` never silently means a dialect.

Plain "Norwegian" (``no``, ``nor``) means Bokmål: it is what about nine in ten Norwegians
write, and what ``no`` in locales and older data almost always means.

The Apertium column is filled for the languages that occur in a Debian-packaged Apertium
pair.  It says what Apertium calls the language, not that a pair is installed: the
Apertium engine still has to check ``apertium -l``.

Below the table live the other facts about languages and their scripts that detection,
segmentation, the glossary and the quality checks share: which code points belong to a
script, which scripts are written without spaces, how densely a script writes, which
languages a detector cannot tell apart.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .errors import UserError, shorten

__all__ = [
    "NORWEGIAN",
    "SCANDINAVIAN",
    "Closeness",
    "Language",
    "UnknownLanguage",
    "all_codes",
    "apertium_code",
    "apertium_mode",
    "are_close",
    "count_unspaced",
    "density",
    "flores_code",
    "from_argos_code",
    "get",
    "is_rtl",
    "iso3",
    "name",
    "no_word_boundary",
    "normalize",
    "parse_list",
    "script_class",
    "script_ranges",
]

# FLORES-200 code, our code, Apertium code ("-" for none), English name.
# Order follows NLLB's tokenizer (transformers' FAIRSEQ_LANGUAGE_CODES), so a diff
# against that list is easy to read.
_TABLE = """
ace_Arab ace-Arab  -    Acehnese (Arabic script)
ace_Latn ace       -    Acehnese
acm_Arab acm       -    Mesopotamian Arabic
acq_Arab acq       -    Ta'izzi-Adeni Arabic
aeb_Arab aeb       -    Tunisian Arabic
afr_Latn af        afr  Afrikaans
ajp_Arab ajp       -    South Levantine Arabic
aka_Latn ak        -    Akan
amh_Ethi am        -    Amharic
apc_Arab apc       -    North Levantine Arabic
arb_Arab ar        -    Arabic
ars_Arab ars       -    Najdi Arabic
ary_Arab ary       -    Moroccan Arabic
arz_Arab arz       -    Egyptian Arabic
asm_Beng as        -    Assamese
ast_Latn ast       ast  Asturian
awa_Deva awa       -    Awadhi
ayr_Latn ay        -    Aymara
azb_Arab azb       -    South Azerbaijani
azj_Latn az        -    Azerbaijani
bak_Cyrl ba        -    Bashkir
bam_Latn bm        -    Bambara
ban_Latn ban       -    Balinese
bel_Cyrl be        bel  Belarusian
bem_Latn bem       -    Bemba
ben_Beng bn        -    Bengali
bho_Deva bho       -    Bhojpuri
bjn_Arab bjn-Arab  -    Banjar (Arabic script)
bjn_Latn bjn       -    Banjar
bod_Tibt bo        -    Tibetan
bos_Latn bs        hbs  Bosnian
bug_Latn bug       -    Buginese
bul_Cyrl bg        bul  Bulgarian
cat_Latn ca        cat  Catalan
ceb_Latn ceb       -    Cebuano
ces_Latn cs        -    Czech
cjk_Latn cjk       -    Chokwe
ckb_Arab ckb       -    Central Kurdish
crh_Latn crh       -    Crimean Tatar
cym_Latn cy        -    Welsh
dan_Latn da        dan  Danish
deu_Latn de        -    German
dik_Latn dik       -    Southwestern Dinka
dyu_Latn dyu       -    Dyula
dzo_Tibt dz        -    Dzongkha
ell_Grek el        -    Greek
eng_Latn en        eng  English
epo_Latn eo        epo  Esperanto
est_Latn et        -    Estonian
eus_Latn eu        eus  Basque
ewe_Latn ee        -    Ewe
fao_Latn fo        -    Faroese
pes_Arab fa        -    Persian
fij_Latn fj        -    Fijian
fin_Latn fi        -    Finnish
fon_Latn fon       -    Fon
fra_Latn fr        fra  French
fur_Latn fur       -    Friulian
fuv_Latn ff        -    Nigerian Fulfulde
gla_Latn gd        -    Scottish Gaelic
gle_Latn ga        -    Irish
glg_Latn gl        glg  Galician
grn_Latn gn        -    Guarani
guj_Gujr gu        -    Gujarati
hat_Latn ht        -    Haitian Creole
hau_Latn ha        -    Hausa
heb_Hebr he        -    Hebrew
hin_Deva hi        hin  Hindi
hne_Deva hne       -    Chhattisgarhi
hrv_Latn hr        hbs  Croatian
hun_Latn hu        -    Hungarian
hye_Armn hy        -    Armenian
ibo_Latn ig        -    Igbo
ilo_Latn ilo       -    Ilocano
ind_Latn id        ind  Indonesian
isl_Latn is        isl  Icelandic
ita_Latn it        ita  Italian
jav_Latn jv        -    Javanese
jpn_Jpan ja        -    Japanese
kab_Latn kab       -    Kabyle
kac_Latn kac       -    Jingpho
kam_Latn kam       -    Kamba
kan_Knda kn        -    Kannada
kas_Arab ks        -    Kashmiri
kas_Deva ks-Deva   -    Kashmiri (Devanagari)
kat_Geor ka        -    Georgian
knc_Arab kr-Arab   -    Central Kanuri (Arabic script)
knc_Latn kr        -    Central Kanuri
kaz_Cyrl kk        -    Kazakh
kbp_Latn kbp       -    Kabiyè
kea_Latn kea       -    Kabuverdianu
khm_Khmr km        -    Khmer
kik_Latn ki        -    Kikuyu
kin_Latn rw        -    Kinyarwanda
kir_Cyrl ky        -    Kyrgyz
kmb_Latn kmb       -    Kimbundu
kon_Latn kg        -    Kikongo
kor_Hang ko        -    Korean
kmr_Latn ku        -    Northern Kurdish
lao_Laoo lo        -    Lao
lvs_Latn lv        -    Latvian
lij_Latn lij       -    Ligurian
lim_Latn li        -    Limburgish
lin_Latn ln        -    Lingala
lit_Latn lt        -    Lithuanian
lmo_Latn lmo       -    Lombard
ltg_Latn ltg       -    Latgalian
ltz_Latn lb        -    Luxembourgish
lua_Latn lua       -    Luba-Kasai
lug_Latn lg        -    Ganda
luo_Latn luo       -    Luo
lus_Latn lus       -    Mizo
mag_Deva mag       -    Magahi
mai_Deva mai       -    Maithili
mal_Mlym ml        -    Malayalam
mar_Deva mr        -    Marathi
min_Latn min       -    Minangkabau
mkd_Cyrl mk        mkd  Macedonian
plt_Latn mg        -    Malagasy
mlt_Latn mt        -    Maltese
mni_Beng mni       -    Meitei
khk_Cyrl mn        -    Mongolian
mos_Latn mos       -    Mossi
mri_Latn mi        -    Maori
zsm_Latn ms        zlm  Malay
mya_Mymr my        -    Burmese
nld_Latn nl        nld  Dutch
nno_Latn nn        nno  Norwegian Nynorsk
nob_Latn nb        nob  Norwegian Bokmål
npi_Deva ne        -    Nepali
nso_Latn nso       -    Northern Sotho
nus_Latn nus       -    Nuer
nya_Latn ny        -    Chichewa
oci_Latn oc        oci  Occitan
gaz_Latn om        -    Oromo
ory_Orya or        -    Odia
pag_Latn pag       -    Pangasinan
pan_Guru pa        -    Punjabi
pap_Latn pap       -    Papiamento
pol_Latn pl        pol  Polish
por_Latn pt        por  Portuguese
prs_Arab prs       -    Dari
pbt_Arab ps        -    Pashto
quy_Latn qu        -    Quechua
ron_Latn ro        ron  Romanian
run_Latn rn        -    Kirundi
rus_Cyrl ru        rus  Russian
sag_Latn sg        -    Sango
san_Deva sa        -    Sanskrit
sat_Beng sat       -    Santali
scn_Latn scn       -    Sicilian
shn_Mymr shn       -    Shan
sin_Sinh si        -    Sinhala
slk_Latn sk        -    Slovak
slv_Latn sl        slv  Slovenian
smo_Latn sm        -    Samoan
sna_Latn sn        -    Shona
snd_Arab sd        -    Sindhi
som_Latn so        -    Somali
sot_Latn st        -    Southern Sotho
spa_Latn es        spa  Spanish
als_Latn sq        -    Albanian
srd_Latn sc        srd  Sardinian
srp_Cyrl sr        hbs  Serbian
ssw_Latn ss        -    Swati
sun_Latn su        -    Sundanese
swe_Latn sv        swe  Swedish
swh_Latn sw        -    Swahili
szl_Latn szl       szl  Silesian
tam_Taml ta        -    Tamil
tat_Cyrl tt        -    Tatar
tel_Telu te        -    Telugu
tgk_Cyrl tg        -    Tajik
tgl_Latn tl        -    Tagalog
tha_Thai th        -    Thai
tir_Ethi ti        -    Tigrinya
taq_Latn taq       -    Tamasheq
taq_Tfng taq-Tfng  -    Tamasheq (Tifinagh)
tpi_Latn tpi       -    Tok Pisin
tsn_Latn tn        -    Tswana
tso_Latn ts        -    Tsonga
tuk_Latn tk        -    Turkmen
tum_Latn tum       -    Tumbuka
tur_Latn tr        -    Turkish
twi_Latn tw        -    Twi
tzm_Tfng tzm       -    Central Atlas Tamazight
uig_Arab ug        -    Uyghur
ukr_Cyrl uk        ukr  Ukrainian
umb_Latn umb       -    Umbundu
urd_Arab ur        urd  Urdu
uzn_Latn uz        -    Uzbek
vec_Latn vec       -    Venetian
vie_Latn vi        -    Vietnamese
war_Latn war       -    Waray
wol_Latn wo        -    Wolof
xho_Latn xh        -    Xhosa
ydd_Hebr yi        -    Yiddish
yor_Latn yo        -    Yoruba
yue_Hant yue       -    Cantonese
zho_Hans zh        -    Chinese (Simplified)
zho_Hant zh-Hant   -    Chinese (Traditional)
zul_Latn zu        -    Zulu
"""

# Codes people use that are not in the table's code columns: ISO 639-3 macrolanguage codes,
# ISO 639-2/B bibliographic codes, withdrawn ISO 639-1 codes, script/region spellings
# that mean one of our rows, and common alternative English names.
_ALIASES = {
    # Norwegian: plain Norwegian is Bokmål (see module docstring).
    "no": "nb", "nor": "nb", "norwegian": "nb", "bokmal": "nb", "bokmål": "nb",
    "nynorsk": "nn",
    # Macrolanguages whose 639-1 code we give to NLLB's individual language.
    "ara": "ar", "fas": "fa", "msa": "ms", "zho": "zh", "lav": "lv", "mlg": "mg",
    "mon": "mn", "nep": "ne", "orm": "om", "pus": "ps", "sqi": "sq", "swa": "sw",
    "uzb": "uz", "yid": "yi", "aze": "az", "aym": "ay", "que": "qu", "kur": "ku",
    "kau": "kr", "ori": "or", "ful": "ff", "zlm": "ms",
    # ISO 639-2/B (bibliographic) codes.
    "alb": "sq", "arm": "hy", "baq": "eu", "bur": "my", "chi": "zh", "cze": "cs",
    "dut": "nl", "fre": "fr", "geo": "ka", "ger": "de", "gre": "el", "ice": "is",
    "mac": "mk", "mao": "mi", "may": "ms", "per": "fa", "rum": "ro", "slo": "sk",
    "tib": "bo", "wel": "cy",
    # Withdrawn ISO 639-1 codes still found in old data (Java locales, langdetect...).
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv",
    # Chinese spellings: region subtags imply the script people write there.
    "zh-hans": "zh", "zh-cn": "zh", "zh-sg": "zh", "zh-my": "zh",
    "zh-hant": "zh-Hant", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
    "zho-hant": "zh-Hant", "zho-hans": "zh",
    # FLORES-200 spelling of Santali (NLLB's checkpoint uses sat_Beng, the benchmark sat_Olck).
    "sat_olck": "sat",
    # English names people type instead of the table's names.
    "chinese": "zh", "farsi": "fa", "filipino": "tl", "kurdish": "ku", "sorani": "ckb",
    "kurmanji": "ku", "myanmar": "my", "slovene": "sl", "gaelic": "gd", "haitian": "ht",
    "panjabi": "pa", "oriya": "or", "kirghiz": "ky", "uighur": "ug", "moldavian": "ro",
    "flemish": "nl", "castilian": "es", "valencian": "ca", "chewa": "ny", "nyanja": "ny",
    "sesotho": "st", "setswana": "tn", "luganda": "lg", "kiswahili": "sw",
    "manipuri": "mni",
}

# Scripts written right to left; direction follows from the script, so it cannot drift
# from the FLORES code.
_RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm"})

# Code points of the scripts some rule has to recognise in running text, by ISO 15924
# code (FLORES-200's script names are ISO 15924 too; "Hrkt" is kana, which "Jpan" mixes
# with "Hani").
_SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "Hrkt": ((0x3040, 0x30FF),),  # Hiragana, Katakana
    "Hani": ((0x3400, 0x9FFF), (0xF900, 0xFAFF)),  # CJK ideographs, compatibility ideographs
    "Hang": ((0xAC00, 0xD7AF),),  # Hangul syllables
    "Thai": ((0x0E00, 0x0E7F),),
    "Laoo": ((0x0E80, 0x0EFF),),
    "Mymr": ((0x1000, 0x109F),),
    "Khmr": ((0x1780, 0x17FF),),
    "Sinh": ((0x0D80, 0x0DFF),),
    "Orya": ((0x0B00, 0x0B7F),),
    "Deva": ((0x0900, 0x097F),),
    "Knda": ((0x0C80, 0x0CFF),),
    "Mlym": ((0x0D00, 0x0D7F),),
}
# Scripts written without spaces between words: there a "word" is a character or two, and
# a name has no word boundary around it.
_UNSPACED_SCRIPTS = ("Hrkt", "Hani", "Thai", "Laoo", "Mymr", "Khmr")
# Scripts whose words may run into the next with no boundary: the unspaced ones, and
# Hangul.  Korean puts spaces between words, so it is not unspaced where words are
# counted, but it writes particles onto the noun (서울에서, "in Seoul"), so a name in Korean
# text is often followed by a letter, not a boundary.
_UNBOUNDED_SCRIPTS = (*_UNSPACED_SCRIPTS, "Hang")

# Characters per unit of meaning, relative to Latin-script languages, by FLORES-200 script.
_SCRIPT_DENSITY = {
    "Hans": 0.33, "Hant": 0.33, "Jpan": 0.45, "Hang": 0.5, "Ethi": 0.65, "Hebr": 0.8, "Arab": 0.85,
    "Thai": 0.9, "Laoo": 0.9, "Tibt": 1.2, "Mymr": 1.2, "Khmr": 1.1, "Taml": 1.3, "Mlym": 1.3,
    "Telu": 1.15, "Knda": 1.2,
}

# Norwegian's two written standards, and with Danish the languages that share so much of
# their vocabulary that only marker words tell them apart on a sentence (see detect.py).
NORWEGIAN = frozenset({"nb", "nn"})
SCANDINAVIAN = NORWEGIAN | {"da"}
# Languages a detector cannot reliably tell apart on a sentence or two.
_CLOSE_GROUPS = (
    SCANDINAVIAN,
    frozenset({"hr", "sr", "bs"}),
    frozenset({"id", "ms"}),
    frozenset({"cs", "sk"}),
)
# What closeness means differs by what the answer decides, so each use adds groups of its
# own to the shared ones:
# * "block": whether a block detected as `a` in a document in `b` keeps the document's
#   language.  Swedish joins the Scandinavian group: a short Danish or Norwegian block
#   read as Swedish is far likelier than a Swedish block in such a document, and a
#   mistaken guess would send the whole block down another route.
# * "output": whether a translation into `b` that reads as `a` is not flagged
#   wrong_language.  Swedish stays apart (lingua tells it from Norwegian on a sentence,
#   and Swedish output for a Norwegian target is a real failure), and Nepali joins Hindi
#   and Marathi, which lingua reads Nepali as unless langdetect is sure.
Closeness = Literal["block", "output"]
_CLOSE_EXTRA: dict[str, tuple[frozenset[str], ...]] = {
    "block": (SCANDINAVIAN | {"sv"},),
    "output": (frozenset({"hi", "mr", "ne"}),),
}
_CLOSE = {purpose: _CLOSE_GROUPS + extra for purpose, extra in _CLOSE_EXTRA.items()}


class UnknownLanguage(UserError):
    """A language code or name that the table does not hold; the message suggests near ones."""


@dataclass(frozen=True)
class Language:
    """One row of the table; `iso3` is the FLORES code's language part."""

    code: str
    flores: str
    iso3: str
    name: str
    apertium: str | None

    @property
    def script(self) -> str:
        return self.flores.split("_", 1)[1]

    @property
    def rtl(self) -> bool:
        return self.script in _RTL_SCRIPTS


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "Bokmål", "bokmal" and "BOKMÅL" look alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _parse(table: str) -> tuple[Language, ...]:
    rows = []
    for line in table.strip().splitlines():
        flores, code, apertium, lang_name = line.split(maxsplit=3)
        rows.append(Language(code, flores, flores.split("_")[0], lang_name,
                             None if apertium == "-" else apertium))
    return tuple(rows)


_LANGUAGES = _parse(_TABLE)
_BY_CODE = {lang.code: lang for lang in _LANGUAGES}


def _build_lookup() -> dict[str, str]:
    """Every accepted spelling, folded, mapped to our code.

    Precedence: our own codes, then FLORES codes, then ISO 639-3 of the default-script row
    (``kas`` → ``ks``, not ``ks-Deva``), then aliases, then English names.
    """
    lookup: dict[str, str] = {}

    def add(key: str, code: str) -> None:
        lookup.setdefault(_fold(key), code)

    for lang in _LANGUAGES:
        add(lang.code, lang.code)
        add(lang.code.replace("-", "_"), lang.code)
    for lang in _LANGUAGES:
        add(lang.flores, lang.code)
        add(lang.flores.replace("_", "-"), lang.code)
    for lang in _LANGUAGES:
        if "-" not in lang.code:
            add(lang.iso3, lang.code)
    for alias, code in _ALIASES.items():
        add(alias, code)
        add(alias.replace("-", "_"), code)
    for lang in _LANGUAGES:
        add(lang.name, lang.code)
    return lookup


_LOOKUP = _build_lookup()
_BY_CODE_FOLDED = {lang.code.casefold(): lang.code for lang in _LANGUAGES}


def _name_index() -> dict[str, list[str]]:
    """Folded names, long aliases and name words ("norwegian" → nb, nn), for suggestions.

    Aliases go in first and whole names before their words, so the usual meaning of a
    word leads its list ("norwegian" → nb before nn, "arabic" → ar before the dialects).
    """
    entries = [(a, c) for a, c in _ALIASES.items() if len(a) > 3 and "-" not in a and "_" not in a]
    entries += [(lang.name, lang.code) for lang in _LANGUAGES]
    keys = [(_fold(text), code) for text, code in entries]
    for text, code in entries:
        keys += [(word, code) for word in re.findall(r"[a-z']{4,}", _fold(text))]
    index: dict[str, list[str]] = {}
    for key, code in keys:
        if code not in index.setdefault(key, []):
            index[key].append(code)
    return index


_NAMES = _name_index()
_SUBTAG = re.compile(r"[-_]")
_BCP47_SUBTAG = re.compile(r"[a-z0-9]{1,8}")


def normalize(code: str) -> str:
    """Our code for any spelling of a language, so the rest of the program compares one form.

    Accepts our codes, ISO 639-1/-2/-3, FLORES-200 codes, English names and BCP-47 tags.
    A BCP-47 tag falls back to its language subtag (``en-US`` → ``en``, ``pt_BR`` → ``pt``)
    unless the whole tag means a row of its own (``zh-Hant``, ``zh-TW``, ``ks-Deva``).
    """
    text = code.strip()
    key = _fold(text)
    if key in _LOOKUP:
        return _LOOKUP[key]
    parts = _SUBTAG.split(key)
    if len(parts) > 1 and all(_BCP47_SUBTAG.fullmatch(p) for p in parts):
        # A script subtag anywhere in the tag can select a row: "zh-Hant-TW", "ks-Deva-IN".
        for sub in parts[1:]:
            if len(sub) == 4 and f"{parts[0]}-{sub}" in _LOOKUP:
                return _LOOKUP[f"{parts[0]}-{sub}"]
        # Region subtag that implies a script ("zh-TW"): try the first two subtags.
        if f"{parts[0]}-{parts[1]}" in _LOOKUP:
            return _LOOKUP[f"{parts[0]}-{parts[1]}"]
        if parts[0] in _LOOKUP:
            return _LOOKUP[parts[0]]
    raise UnknownLanguage(_unknown_message(text))


def _close(key: str, candidates: list[str], cutoff: float) -> list[str]:
    """difflib matches, keeping only those nearly as close as the best one.

    A clear typo ("norwegain") should suggest Norwegian, not also every name that shares
    a few letters with it.
    """
    matches = difflib.get_close_matches(key, candidates, n=5, cutoff=cutoff)
    if not matches:
        return []
    best = difflib.SequenceMatcher(None, key, matches[0]).ratio()
    return [m for m in matches if difflib.SequenceMatcher(None, key, m).ratio() >= best - 0.1]


def _unknown_message(text: str) -> str:
    """One sentence naming the bad code and the nearest valid ones, by code and by name.

    Codes are two or three letters, where one wrong letter already halves difflib's ratio,
    so short input is compared with a lower cutoff and its code matches come first;
    longer input is more likely a misspelt name.
    """
    key = _fold(text)
    by_code = [_BY_CODE_FOLDED[m]
               for m in _close(key, list(_BY_CODE_FOLDED), 0.5 if len(key) <= 3 else 0.7)]
    by_name = [c for m in _close(key, list(_NAMES), 0.6) for c in _NAMES[m]]
    if len(key) >= 4:  # a fragment of a name: "arab" → the Arabic rows
        by_name += [c for n, codes in _NAMES.items() if key in n for c in codes]
    ordered = by_code + by_name if len(key) <= 3 else by_name + by_code
    unique = list(dict.fromkeys(ordered))[:5]
    if not unique:
        return f"Unknown language {shorten(text)!r}: not a language code or name that multitrans knows."
    listed = ", ".join(f"{c} ({_BY_CODE[c].name})" for c in unique)
    return f"Unknown language {shorten(text)!r}: did you mean {listed}?"


def get(code: str) -> Language:
    """The whole row, for callers that need several fields at once."""
    return _BY_CODE[normalize(code)]


def flores_code(code: str) -> str:
    """The code NLLB-200 wants for ``src_lang``/``tgt_lang`` (``nob_Latn``)."""
    return get(code).flores


def iso3(code: str) -> str:
    """ISO 639-3 code of the individual language NLLB means (``ar`` → ``arb``, ``nb`` → ``nob``)."""
    return get(code).iso3


def name(code: str) -> str:
    """English name, for messages and reports."""
    return get(code).name


def apertium_code(code: str) -> str | None:
    """What Apertium calls the language, or None when no Debian Apertium pair has it."""
    return get(code).apertium


def apertium_mode(src: str, tgt: str) -> str | None:
    """The Apertium mode for src→tgt (``nob-nno``), to be looked for in ``apertium -l``;
    None when either side has no Apertium code."""
    a, b = apertium_code(src), apertium_code(tgt)
    return None if a is None or b is None else f"{a}-{b}"


# Argos Translate's codes that are not ISO 639 or BCP 47: Traditional Chinese, Brazilian Portuguese.
_ARGOS_CODES = {"zt": "zh-Hant", "pb": "pt"}


def from_argos_code(code: str) -> str:
    """Our code for the language an Argos Translate package's metadata names."""
    return normalize(_ARGOS_CODES.get(code, code))


def is_rtl(code: str) -> bool:
    """True for right-to-left scripts, so writers can set ``dir="rtl"`` and QA can expect it."""
    return get(code).rtl


def density(code: str) -> float:
    """Characters the language's script needs per unit of meaning, relative to Latin (1.0),
    so a length check can tell a short Chinese translation from a truncated one."""
    return _SCRIPT_DENSITY.get(get(code).script, 1.0)


def are_close(a: str, b: str, purpose: Closeness) -> bool:
    """Whether `a` and `b` are too close for a detector to tell apart, for `purpose`
    (see `_CLOSE_EXTRA` for how the purposes differ)."""
    return any(a in group and b in group for group in _CLOSE[purpose])


def script_ranges(script: str) -> tuple[tuple[int, int], ...]:
    """The code point ranges (first, last) of an ISO 15924 script in `_SCRIPT_RANGES`."""
    return _SCRIPT_RANGES[script]


def script_class(scripts: Iterable[str]) -> str:
    """A regex character class matching any character of the scripts."""
    return "[" + "".join(f"{chr(low)}-{chr(high)}" for s in scripts for low, high in _SCRIPT_RANGES[s]) + "]"


_UNSPACED = re.compile(script_class(_UNSPACED_SCRIPTS))
_UNBOUNDED = re.compile(script_class(_UNBOUNDED_SCRIPTS))


def count_unspaced(text: str) -> int:
    """Characters of `text` in scripts written without spaces (Han, kana, Thai, Khmer...),
    where counting words means counting characters."""
    return len(_UNSPACED.findall(text))


def no_word_boundary(char: str) -> bool:
    """Whether a word may run into its neighbour at `char` with nothing between them: unspaced
    scripts and Hangul (see `_UNBOUNDED_SCRIPTS`), so a name there is matched without
    requiring a boundary."""
    return _UNBOUNDED.match(char) is not None


def all_codes() -> list[str]:
    """Every code we accept as a target, sorted, for listings and for checking completeness."""
    return sorted(_BY_CODE)


def parse_list(text: str) -> list[str]:
    """Normalize a comma-separated list from the command line, keeping the user's order.

    Duplicates (``nb,no``) collapse to their first occurrence so no language is translated
    twice; empty items from stray commas are ignored.
    """
    codes = [normalize(part) for part in text.split(",") if part.strip()]
    return list(dict.fromkeys(codes))
