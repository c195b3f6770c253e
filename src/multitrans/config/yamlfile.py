"""Reading our YAML files (models.yaml, glossaries) as node trees.

Composing nodes rather than loading Python objects keeps `no` and `on` as the strings
they are in a language list, lets every complaint name its line, and constructs nothing,
so a `!!python/...` tag cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import yaml


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
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise error(f"{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from exc
