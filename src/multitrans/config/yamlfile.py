"""Reading our YAML files (models.yaml, glossaries) as node trees.

Composing nodes rather than loading Python objects keeps `no` and `on` as the strings
they are in a language list, lets every complaint name its line, and constructs nothing,
so a `!!python/...` tag cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import shorten


def compose_file(file: Path, what: str, error: type[Exception]) -> yaml.Node | None:
    """The file's root node (None when it is empty); an unreadable file, one that is not UTF-8
    or a YAML syntax error raises `error` with one line naming `what` and the place."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} {file} is not UTF-8 text (byte {exc.start})") from exc
    try:
        return yaml.compose(text, Loader=_Loader)
    except _Refused as exc:
        raise error(f"{file}:{exc.problem_mark.line + 1}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise error(f"{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from exc


MAX_DEPTH = 50  # models.yaml needs 4 levels; PyYAML's composer recurses once per level


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that we still refuse: a duplicate key, or nesting past MAX_DEPTH."""


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer, refusing what YAML allows but a configuration must not hold.

    A key given twice in one mapping would silently lose one of the two values; nesting
    thousands deep would exhaust Python's recursion limit inside the composer."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(problem=f"nested more than {MAX_DEPTH} levels deep; a configuration needs a few",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        first: dict[str, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            if key.value in first:
                line = first[key.value].start_mark.line + 1
                raise _Refused(problem=f"key {shorten(key.value)!r} appears twice in one mapping (lines {line} "
                               f"and {key.start_mark.line + 1}); keep one", problem_mark=key.start_mark)
            first[key.value] = key
        return node
