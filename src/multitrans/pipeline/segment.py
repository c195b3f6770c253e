"""Sentence splitting and protected spans.

Blocks are cut into pieces: sentences to translate and the exact text between them
(spaces, line breaks), so that joining the pieces back gives the block unchanged.
Spans that must never change (URLs, e-mail addresses, domain names, numbers, dates,
emoji and the markup a format marks as protected) are found here, kept out of sentence
boundaries, and checked after translation by `spans_intact`.

Splitting uses `sentence-splitter` (the Moses non-breaking-prefix rules, which know
Norwegian abbreviations such as `bl.a.`, `f.eks.`, `ca.` and do not split before a
lower-case word, so `7. september` stays whole) for the 24 languages it has rules for,
and Wikimedia's `sentencex` (rules and fallbacks for some 250 languages, CJK and
Indic full stops included) for the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

from ..document import Piece, Span

# Trailing punctuation is not part of a URL written in running text ("…-war/, samt").
_URL = r"(?:https?|ftp)://[^\s<>\"'«»]+[^\s<>\"'«».,;:!?)\]]"
# Both start only where a token starts (the lookbehinds), as their leftmost matches did
# anyway: tried at every character of a long run, each would cost time quadratic in it.
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_DOMAIN = r"(?:www\.)[\w-]+(?:\.[\w-]+)+|(?<![\w.-])\b(?![\w.-]*www\.)[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|no|uk|eu|de|se|dk|fi|fr|io|gov|edu|info)\b(?!\.\w)"
# A number followed by a Chinese or Japanese unit of ten thousand, a hundred million, a thousand
# or a hundred, or by "month", is rewritten by a correct translation ("2040 万" is "20.4
# million", "10 月" "October"), so it is not kept as it is.  Written without the space, the unit
# is a word character and the number is not a span anyway.
_CJK_NUMBER_WORDS = "万萬亿億千百月"
_NUMBER = rf"(?<![\w.,])[+-]?\d+(?:[.,:/-]\d+)*%?(?![\w])(?!\s[{_CJK_NUMBER_WORDS}])"
# Emoji (with their modifiers, variation selectors and ZWJ sequences), pictographs and
# private-use characters: no translation model has anything to say about them, and most
# have them outside their vocabulary, where one can derail the rest of the sentence.
_PICTOGRAPH = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uE000-\uF8FF"
_SYMBOL = rf"[{_PICTOGRAPH}](?:[\uFE0E\uFE0F\u20E3\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]|\u200D[{_PICTOGRAPH}])*|[\uFE0F\u20E3]+"
PROTECTED_PATTERN = re.compile(
    "|".join(f"(?:{p})" for p in (_URL, _EMAIL, _DOMAIN, _NUMBER, _SYMBOL)), re.IGNORECASE
)

# Names and acronyms, which a rule-based engine takes for words of its dictionary: Apertium
# made "M&S" "M S og&skal", "AM" "AMMA", "Ant McPartlin" "Anet Mcpartlin" and "EM24
# EuropMedia" "Em24 Europmedia".  A word token may hold an apostrophe or an ampersand.
_JOINERS = "'’&"
_NAME_TOKEN = re.compile(rf"\w+(?:[{_JOINERS}]\w+)*")
_INNER_APOSTROPHE = re.compile(r"\w['’]\w*[A-Z]")  # "O'Brien"
# This many capitalised tokens in a row are shouting (a headline in capitals), not acronyms.
_SHOUTING_RUN = 3

# A run of this many characters without a space is no word of any language (the longest
# compounds and most URLs are well under it): a base64 blob, a hash list, a paste gone wrong.
# It is kept as it is, a piece of its own that no splitter or model sees, because the
# sentence splitter's cost and the rule-based engine's grow faster than linearly with it.
LONG_TOKEN_CHARS = 500
_LONG_TOKEN = re.compile(rf"\S{{{LONG_TOKEN_CHARS},}}")
# Separators a block can hold besides the line feed: vertical tab, form feed, the information
# separators, NEL, and the Unicode line and paragraph separators.  Each ends a sentence and is
# kept as it is, outside every sentence: a model (or Apertium) turns them into spaces or other
# separators, or drops them ("S1.\fS2." came back "S1.S2.").
_SEPARATOR = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")

_SENTENCE_SPLITTER_LANGUAGES = frozenset(
    "ca cs da de el en es fi fr hu is it lt lv nl no pl pt ro ru sk sl sv tr".split()
)
_SPLITTER_ALIASES = {"nb": "no", "nn": "no"}


def find_protected(text: str, extra: Sequence[Span] = ()) -> list[Span]:
    """Protected spans of `text`: the built-in patterns plus `extra`, merged and sorted."""
    spans = [m.span() for m in PROTECTED_PATTERN.finditer(text)] + _name_spans(text) + [tuple(s) for s in extra]
    merged: list[Span] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _name_spans(text: str) -> list[Span]:
    """Words whose form a translation must keep: those with `&` inside ("M&S"), acronyms
    (two or more letters, all capitals: "AM", "EM24"; not in a run of capitals, which is
    shouting), and names with an inner capital ("McPartlin", "EuropMedia"), together with the
    capitalised word right before such a name ("Ant McPartlin")."""
    tokens = [(a, b) for a, b in _cased_tokens(text) if any(c.isalpha() for c in text[a:b])]
    capitals = [all(c.isupper() for c in text[a:b] if c.isalpha()) for a, b in tokens]
    run = [0] * len(tokens)  # length of the run of capitalised tokens each token is in
    first = 0
    for last in range(len(tokens) + 1):
        if last == len(tokens) or not capitals[last]:
            run[first:last] = [last - first] * (last - first)
            first = last + 1
    spans: list[Span] = []
    for i, (start, end) in enumerate(tokens):
        word = text[start:end]
        if _in_compound(text, start, end):
            continue
        acronym = capitals[i] and sum(c.isalpha() for c in word) >= 2 and run[i] < _SHOUTING_RUN
        if "&" in word or acronym or (is_acronym(word) and run[i] == 0):
            spans.append((start, end))
        elif any(a.islower() and b.isupper() for a, b in zip(word, word[1:])) or _INNER_APOSTROPHE.search(word):
            if i and tokens[i - 1][1] + 1 == start and text[start - 1] == " " and _capitalised(text[slice(*tokens[i - 1])]):
                start = tokens[i - 1][0]
            spans.append((start, end))
    return spans


def _cased_tokens(text: str) -> list[Span]:
    """Words of cased scripts (letters and digits, joined by an apostrophe or `&`): Chinese
    characters written up against a Latin name ("发生在Encinita") are no part of it."""
    found: list[Span] = []
    for match in _NAME_TOKEN.finditer(text):
        start: int | None = None
        for i in range(match.start(), match.end() + 1):
            inside = i < match.end() and (text[i].isupper() or text[i].islower() or text[i].isdigit() or text[i] in _JOINERS)
            if inside and start is None:
                start = i
            elif not inside and start is not None:
                a, b = start, i
                while a < b and text[a] in _JOINERS:
                    a += 1
                while b > a and text[b - 1] in _JOINERS:
                    b -= 1
                if a < b:
                    found.append((a, b))
                start = None
    return found


def is_acronym(span: str) -> bool:
    """Two or more letters, all capitals, and perhaps a genitive s ("AM", "EM24", "FNs")."""
    letters = [c for c in span.removesuffix("s") if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and all(c.isalnum() for c in span)


def without_acronyms(spans: Sequence[str]) -> tuple[str, ...]:
    """The spans an engine that may translate acronyms ("FN" is "UN" in English) must keep."""
    return tuple(span for span in spans if not is_acronym(span))


def _in_compound(text: str, start: int, end: int) -> bool:
    """Part of a hyphenated compound ("ITV-programmet"), which engines keep whole, and which
    translating around it would cut."""
    return (text[end : end + 1] == "-" and text[end + 1 : end + 2].isalnum()) or (
        text[start - 1 : start] == "-" and start > 1 and text[start - 2].isalnum())


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word[1:].islower()


def has_words(text: str, spans: Sequence[Span] = ()) -> bool:
    """True when some letter lies outside the protected spans: only then is there anything to translate."""
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    return any(unicodedata.category(ch).startswith("L") for i, ch in enumerate(text) if i not in covered)


@lru_cache(maxsize=64)
def _splitter(lang: str) -> Callable[[str], list[str]]:
    code = _SPLITTER_ALIASES.get(lang, lang)
    if code in _SENTENCE_SPLITTER_LANGUAGES:
        from sentence_splitter import SentenceSplitter

        return SentenceSplitter(language=code).split
    import sentencex

    return lambda text: list(sentencex.segment(lang, text))


def _sentence_bounds(text: str, lang: str) -> list[Span]:
    """Where each sentence of `text` starts and ends (offsets into `text`)."""
    bounds: list[Span] = []
    cursor = 0
    for sentence in _splitter(lang)(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        start = text.find(sentence, cursor)
        end = start + len(sentence)
        if start < 0:  # the splitter normalised whitespace inside the sentence: match its words
            found = re.compile(r"\s+".join(map(re.escape, sentence.split()))).search(text, cursor)
            if found is None:
                continue
            start, end = found.span()
        bounds.append((start, end))
        cursor = end
    return bounds


def segment_block(text: str, lang: str, extra_protected: Sequence[Span] = ()) -> list[Piece]:
    """Cut a block into sentence pieces and the text between them; `"".join` restores it.

    A token of LONG_TOKEN_CHARS or more (widened to any protected span it touches) and a
    run of separators (form feed, NEL, U+2028, U+2029...) outside the protected spans are
    pieces of their own, kept as they are; the text around them is cut as usual."""
    extra = find_protected("", extra_protected)  # sorted and merged
    pieces: list[Piece] = []
    cursor = 0
    for start, end in _kept_runs(text, extra):
        gap = text[cursor:start]
        pieces += _segment(gap, lang, find_protected(gap, _within(extra, cursor, start)))
        pieces.append(Piece(text[start:end], False))
        cursor = end
    if cursor == 0:
        return _segment(text, lang, find_protected(text, extra))
    gap = text[cursor:]
    return pieces + _segment(gap, lang, find_protected(gap, _within(extra, cursor, len(text))))


def _long_tokens(text: str, spans: Sequence[Span]) -> list[Span]:
    """Where the over-long tokens are, each widened to cover the protected spans it overlaps."""
    found: list[Span] = []
    for match in _LONG_TOKEN.finditer(text):
        start, end = match.span()
        for a, b in spans:  # spans are sorted and merged
            if a < end and b > start:
                start, end = min(start, a), max(end, b)
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(end, found[-1][1]))
        else:
            found.append((start, end))
    return found


def _kept_runs(text: str, spans: Sequence[Span]) -> list[Span]:
    """Over-long tokens and separator runs, sorted; a separator inside a protected span stays in it."""
    separators = [m.span() for m in _SEPARATOR.finditer(text)
                  if not any(a <= m.start() and m.end() <= b for a, b in spans)]
    runs = sorted(_long_tokens(text, spans) + separators)
    merged: list[Span] = []
    for start, end in runs:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _within(spans: Sequence[Span], start: int, end: int) -> list[Span]:
    return [(a - start, b - start) for a, b in spans if a >= start and b <= end]


def _segment(text: str, lang: str, spans: Sequence[Span]) -> list[Piece]:
    if not text:
        return []
    # The splitter sees protected spans as plain x's (same length, so offsets hold)
    # and so never ends a sentence inside a URL, a number or a piece of markup; capitals stay
    # capitals, so a sentence that starts with a protected name still starts a sentence.
    chars = list(text)
    for start, end in spans:
        chars[start:end] = ("X" if c.isupper() else "x" for c in text[start:end])
    blanked = "".join(chars)
    pieces: list[Piece] = []
    cursor = 0
    for line_start, line in _lines(blanked):
        for start, end in _sentence_bounds(line.replace("\n", " "), lang):
            start, end = start + line_start, end + line_start
            if start < cursor:
                continue
            if start > cursor:
                pieces.append(Piece(text[cursor:start], False))
            pieces.append(_sentence_piece(text, start, end, spans))
            cursor = end
    if cursor < len(text):
        pieces.append(Piece(text[cursor:], False))
    return pieces


def _lines(text: str) -> list[tuple[int, str]]:
    """Runs of lines that may share a sentence, with their offsets.

    A line break ends a sentence unless the next line goes on in lower case: that is a
    hard-wrapped paragraph, whose sentences must reach the model whole.
    """
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        if out and line.lstrip()[:1].islower():
            start, previous = out[-1]
            out[-1] = (start, previous + "\n" + line)
        else:
            out.append((offset, line))
        offset += len(line) + 1
    return out


def _sentence_piece(text: str, start: int, end: int, spans: Sequence[Span]) -> Piece:
    inner = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    sentence = text[start:end]
    return Piece(sentence, has_words(sentence, inner), tuple(sentence[s:e] for s, e in inner))


def spans_intact(translation: str, spans: Sequence[str]) -> bool:
    """Every protected span appears in the translation as often as in the source."""
    needed: dict[str, int] = {}
    for span in spans:
        needed[span] = needed.get(span, 0) + 1
    return all(count_span(translation, span) >= n for span, n in needed.items())


def count_span(text: str, span: str) -> int:
    """How often `span` occurs in `text`, not counting where a capital at its edge runs on
    into more capitals: "AM" is not in "AMMA" (what Apertium made of it)."""
    count = 0
    at = text.find(span)
    while at >= 0 and span:
        end = at + len(span)
        runs_on = (span[0].isupper() and at > 0 and text[at - 1].isupper()) or (
            span[-1].isupper() and end < len(text) and text[end].isupper())
        count += not runs_on
        at = text.find(span, at + 1 if runs_on else end)
    return count


def split_around_spans(sentence: str, spans: Sequence[str]) -> list[Piece]:
    """The sentence as text runs between its protected spans, for translating around a span a model mangled."""
    pieces: list[Piece] = []
    cursor = 0
    for span in spans:
        at = sentence.find(span, cursor)
        if at < 0:
            continue
        if at > cursor:
            run = sentence[cursor:at]
            pieces.append(Piece(run, has_words(run)))
        pieces.append(Piece(span, False))
        cursor = at + len(span)
    if cursor < len(sentence):
        run = sentence[cursor:]
        pieces.append(Piece(run, has_words(run)))
    return _strip_edges(pieces)


def _strip_edges(pieces: list[Piece]) -> list[Piece]:
    """Keep the whitespace around each translatable run out of it, so joins keep the source spacing."""
    out: list[Piece] = []
    for piece in pieces:
        if not piece.translate:
            out.append(piece)
            continue
        core = piece.text.strip()
        lead = piece.text[: len(piece.text) - len(piece.text.lstrip())]
        trail = piece.text[len(piece.text.rstrip()) :]
        out.extend(p for p in (Piece(lead, False), Piece(core, True), Piece(trail, False)) if p.text)
    return out


_CLAUSE_BREAK = re.compile(r"(?<=[,;:–—])\s+|\s+(?=[–—]\s)")


def split_long(sentence: str, limit: int, count: Callable[[Sequence[str]], list[int]]) -> list[Piece]:
    """Cut a sentence longer than `limit` tokens at clause breaks, then at spaces, keeping every character.

    Models silently drop what lies past their input limit; cutting here is what
    guarantees that nothing is ever truncated.
    """
    if count([sentence])[0] <= limit:
        return [Piece(sentence, True)]
    for pattern in (_CLAUSE_BREAK, re.compile(r"\s+")):
        cuts = [m.span() for m in pattern.finditer(sentence)]
        if cuts:
            start, end = cuts[len(cuts) // 2]
            left, gap, right = sentence[:start], sentence[start:end], sentence[end:]
            if left.strip() and right.strip():
                return [
                    *split_long(left, limit, count),
                    Piece(gap, False),
                    *split_long(right, limit, count),
                ]
    if len(sentence) < 2:
        return [Piece(sentence, True)]
    # One unbroken token run longer than the limit: halve it by characters.
    middle = len(sentence) // 2
    return [*split_long(sentence[:middle], limit, count), *split_long(sentence[middle:], limit, count)]
