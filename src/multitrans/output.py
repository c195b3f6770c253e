"""Where translations go and how they are written: layout templates, atomic files, aligned JSONL."""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TextIO

from .errors import MultitransError, UserError

DEFAULT_LAYOUT = "{lang}/{name}"
ALIGNED_LAYOUT = "aligned/{name}.jsonl"


class OutputError(UserError):
    """An output path is invalid or would leave the output directory."""


class WriteError(MultitransError):
    """The files could not be written (read-only directory, disk full...); none of them was left behind."""


def output_path(out_dir: Path, layout: str, name: str, lang: str) -> Path:
    """The file for `name` in `lang` under `out_dir`; refuses anything that would land outside it."""
    pure = PurePosixPath(name)
    fields = {"lang": lang, "name": pure.name, "stem": pure.stem, "ext": pure.suffix, "path": name}
    try:
        relative = layout.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise OutputError(
            f"bad --layout '{layout}': {exc}; use the fields {{lang}}, {{name}}, {{stem}}, {{ext}} and {{path}}"
        ) from exc
    bad = next((c for c in relative if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise OutputError(f"the output name {relative!r} holds the control character {bad!r}; rename the input")
    root = out_dir.resolve()
    # resolve() follows symbolic links, so a link under out_dir that points elsewhere is refused too.
    target = (root / relative).resolve()
    if target == root or root not in target.parents:
        raise OutputError(f"--layout '{layout}' puts '{name}' at '{relative}', outside the output directory {out_dir}")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so no reader ever sees a half-written file."""
    with atomic_file(path) as handle:
        handle.write(text)


@contextmanager
def atomic_file(path: Path, newline: str = "") -> Iterator[TextIO]:
    """A UTF-8 file that appears at `path` (by rename, after an fsync) only when the block
    completes; on any error the temporary file is removed and `path` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic_all(jobs: Sequence[tuple[Path, str]]) -> None:
    """Write several files all or nothing: each goes to a temporary file (written and synced)
    first, and only when every one is complete are they renamed into place.

    A failure while writing (disk full, read-only directory, an interrupt) removes the
    temporary files and any directory made for them, and raises WriteError: no new file
    of the set is left, and files from an earlier run keep their old content.  A process
    killed outright may leave a hidden `.NAME.*.tmp` file, never a truncated NAME.
    """
    staged: list[tuple[str, Path]] = []
    made: list[Path] = []
    current = jobs[0][0] if jobs else None
    try:
        for path, text in jobs:
            current = path
            made.extend(_make_parents(path))
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        for directory in reversed(made):
            try:
                directory.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write {current}: {exc.strerror or exc}; no file of this set was written") from exc
        raise


def _make_parents(path: Path) -> list[Path]:
    """Create the missing directories above `path`; returns those it made, outermost first."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
    return list(reversed(missing))


def jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
