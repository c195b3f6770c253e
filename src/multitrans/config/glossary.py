"""The glossary: names never translated, and terms translated one fixed way per language.

    keep: [EM24 EuropMedia, Kim Jong Un]          # never translated
    terms:
      FNs sikkerhetsråd: {en: UN Security Council, de: UN-Sicherheitsrat}

It comes from `--glossary FILE` and from a `glossary:` section in models.yaml (the
file's entries win).  A kept name becomes a protected span, exactly like a URL or a
number: the splitter never cuts it, it must come out unchanged, and where a model
mangles it the text around it is translated on its own and the name put back.  A fixed
term is first left to the model (a good model often writes it in context, with the
grammar around it right); where the required term is not in the output, the text
around the source term is translated on its own and the fixed term put in its place,
and the quality check reports whatever still lacks it.

Matching is exact and case-sensitive, on word boundaries: a name is a name.  The file
is read as YAML nodes with the safe loader, so a `!!python/...` tag executes nothing
and every complaint names the file, line and key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from ..document import Span
from ..errors import UserError
from ..languages import UnknownLanguage, no_word_boundary, normalize
from .yamlfile import compose_file


class GlossaryError(UserError):
    """The glossary is malformed; the message names file, line and key."""


@dataclass(frozen=True)
class Glossary:
    keep: tuple[str, ...] = ()
    terms: dict[str, dict[str, str]] = field(default_factory=dict)  # source term -> {target lang: term}

    def __bool__(self) -> bool:
        return bool(self.keep or self.terms)

    def merge(self, other: Glossary) -> Glossary:
        """This glossary with `other`'s entries added; `other` wins where both fix a term."""
        terms = {term: dict(targets) for term, targets in self.terms.items()}
        for term, targets in other.terms.items():
            terms.setdefault(term, {}).update(targets)
        return Glossary(tuple(dict.fromkeys((*self.keep, *other.keep))), terms)

    def keep_spans(self, text: str) -> list[Span]:
        """Where kept names occur in `text`: spans to protect like URLs and numbers."""
        return [m.span() for m in self._keep_pattern.finditer(text)] if self.keep else []

    def fixed_terms(self, text: str, tgt: str) -> list[tuple[str, str]]:
        """(source term, required target term) for every occurrence in `text` of a term fixed for `tgt`."""
        if not self.terms:
            return []
        found = []
        for match in self._term_pattern.finditer(text):
            target = self.terms[match.group()].get(tgt)
            if target is not None:
                found.append((match.group(), target))
        return found

    @cached_property
    def _keep_pattern(self) -> re.Pattern[str]:
        return _alternatives(self.keep)

    @cached_property
    def _term_pattern(self) -> re.Pattern[str]:
        return _alternatives(tuple(self.terms))


def _alternatives(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for all `words`, longest first (so "Kim Jong Un" wins over "Kim"), each bounded
    by non-word characters on a side where it starts or ends with a letter of a spaced script."""
    parts = []
    for word in sorted(words, key=lambda w: (-len(w), w)):
        left = r"(?<!\w)" if _spaced_word_char(word[0]) else ""
        right = r"(?!\w)" if _spaced_word_char(word[-1]) else ""
        parts.append(f"{left}{re.escape(word)}{right}")
    return re.compile("|".join(parts))


def _spaced_word_char(char: str) -> bool:
    """A word character that a name ending or starting with it needs a boundary beside: CJK,
    Thai and Korean names have none (see `languages.no_word_boundary`)."""
    return bool(re.match(r"\w", char)) and not no_word_boundary(char)


def load_glossary(path: str | Path) -> Glossary:
    """Read a glossary file (`keep:` and `terms:` at its top level)."""
    file = Path(path)
    root = compose_file(file, "glossary", GlossaryError)
    return parse_glossary(root, file)


def parse_glossary(node: yaml.Node | None, file: str | Path, prefix: str = "") -> Glossary:
    """A glossary from its YAML node: a file's top level, or the `glossary:` section of models.yaml
    (then `prefix` is "glossary." so errors name the key as the user wrote it)."""
    return _Parser(str(file), prefix).glossary(node)


class _Parser:
    def __init__(self, file: str, prefix: str) -> None:
        self.file = file
        self.prefix = prefix

    def fail(self, node: yaml.Node, key: str, message: str) -> GlossaryError:
        full = f"{self.prefix}{key}".strip(".") or "(top level)"
        return GlossaryError(f"{self.file}:{node.start_mark.line + 1}: key '{full}': {message}")

    def plain(self, node: yaml.Node, key: str) -> yaml.Node:
        """Refuse explicit application tags (`!!python/object/...`): the safe loader would never run
        them, but a glossary that carries one is not what its author thinks it is."""
        if not node.tag.startswith("tag:yaml.org,2002:") or "python/" in node.tag:
            raise self.fail(node, key, f"the tag {node.tag} is not allowed here; write plain values")
        return node

    def mapping(self, node: yaml.Node, key: str) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(self.plain(node, key), yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping")
        for knode, vnode in node.value:
            yield self.text(knode, key), knode, vnode

    def text(self, node: yaml.Node, key: str) -> str:
        if not isinstance(self.plain(node, key), yaml.ScalarNode) or not node.value.strip():
            raise self.fail(node, key, "expected a non-empty text")
        return node.value.strip()

    def glossary(self, node: yaml.Node | None) -> Glossary:
        if node is None or (isinstance(node, yaml.ScalarNode) and not node.value):
            return Glossary()
        keep: list[str] = []
        terms: dict[str, dict[str, str]] = {}
        for name, knode, vnode in self.mapping(node, ""):
            if name == "keep":
                if not isinstance(self.plain(vnode, "keep"), yaml.SequenceNode):
                    raise self.fail(vnode, "keep", "expected a list of names, e.g. [EM24 EuropMedia, Kim Jong Un]")
                keep.extend(self.text(n, "keep") for n in vnode.value)
            elif name == "terms":
                for term, tnode, targets in self.mapping(vnode, "terms"):
                    key = f"terms.{term}"
                    terms[term] = {self.language(code, lnode, key): self.text(v, f"{key}.{code}")
                                   for code, lnode, v in self.mapping(targets, key)}
            else:
                raise self.fail(knode, name, "unknown key; a glossary has 'keep' and 'terms'")
        overlap = sorted(set(keep) & set(terms))
        if overlap:
            raise GlossaryError(f"{self.file}: '{overlap[0]}' is both kept and translated; list it in one place")
        return Glossary(tuple(dict.fromkeys(keep)), terms)

    def language(self, code: str, node: yaml.Node, key: str) -> str:
        try:
            return normalize(code)
        except UnknownLanguage as exc:
            raise self.fail(node, key, str(exc)) from exc
