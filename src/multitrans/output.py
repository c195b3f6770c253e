"""Where translations go and how they are written: layout templates, atomic files, aligned JSONL."""

from __future__ import annotations

import json
import os
import shutil
import stat
import string
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TextIO

from .errors import MultitransError, UserError, shorten

DEFAULT_LAYOUT = "{lang}/{name}"
ALIGNED_LAYOUT = "aligned/{name}.jsonl"
# The project's own state under --out (translation memory, manifest, lock): no output may land in it.
STATE_DIR = ".multitrans"
# The fields a --layout template may use, as {lang}, {name}...; nothing else is filled in.
LAYOUT_FIELDS = ("lang", "name", "stem", "ext", "path")


class OutputError(UserError):
    """An output path is invalid or would leave the output directory."""


class OutputCollision(OutputError):
    """Two outputs of one run would be written to the same file; found before anything is written."""


class WriteError(MultitransError):
    """The files could not be written (read-only directory, disk full...); none of them was left behind."""


def fill_layout(layout: str, name: str, lang: str) -> str:
    """`layout` with its fields filled for `name` in `lang`.

    Only the plain fields LAYOUT_FIELDS name are allowed: `str.format` would also follow
    attributes and indexes (`{name.__class__}`), conversions and nested format specs, none
    of which makes a file name and all of which reach into Python objects."""
    pure = PurePosixPath(name)
    fields = {"lang": lang, "name": pure.name, "stem": pure.stem, "ext": pure.suffix, "path": name}
    allowed = ", ".join(f"{{{f}}}" for f in LAYOUT_FIELDS)
    try:
        parts = list(string.Formatter().parse(layout))
    except ValueError as exc:
        raise OutputError(f"bad --layout '{shorten(layout)}': {exc}; use the fields {allowed}") from exc
    for _, field, spec, conversion in parts:
        if field is not None and (field not in LAYOUT_FIELDS or spec or conversion):
            written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise OutputError(f"bad --layout '{shorten(layout)}': {shorten(written)} is not one of its fields; "
                              f"use only {allowed}")
    return "".join(literal + (fields[field] if field is not None else "") for literal, field, _, _ in parts)


def output_path(out_dir: Path, layout: str, name: str, lang: str) -> Path:
    """The file for `name` in `lang` under `out_dir`; refuses anything that would land outside it."""
    relative = fill_layout(layout, name, lang)
    bad = next((c for c in relative if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise OutputError(f"the output name {relative!r} holds the control character {bad!r}; rename the input")
    root = out_dir.resolve()
    # resolve() follows symbolic links, so a link under out_dir that points elsewhere is refused too.
    target = (root / relative).resolve()
    if target == root or root not in target.parents:
        plain = Path(os.path.normpath(root / relative))
        if root in plain.parents:  # the layout keeps it inside; a link on the way leads out
            raise OutputError(f"the output {plain.relative_to(root).as_posix()} for '{name}' leads through a link to "
                              f"{target}, outside the output directory {out_dir}; remove the link")
        raise OutputError(f"--layout '{shorten(layout)}' puts '{name}' at '{shorten(relative)}', outside the output directory {out_dir}")
    if target.relative_to(root).parts[0] == STATE_DIR:
        raise OutputError(f"--layout '{shorten(layout)}' puts '{name}' at '{shorten(relative)}', inside {STATE_DIR}/, "
                          "which holds the translation memory and the job's state")
    return target


def state_dir(out_dir: str | Path) -> Path:
    """OUT/.multitrans, refused when it is a link or leads out of OUT: the memory, manifest and
    lock are outputs too, and stay inside the output directory like every other."""
    out = Path(out_dir)
    path = out / STATE_DIR
    if path.is_symlink() or (path.exists() and path.resolve().parent != out.resolve()):
        raise OutputError(f"{path} is a link to {path.resolve()}; the memory and job state must stay inside "
                          f"the output directory {out}: remove the link")
    return path


def plan_outputs(
    out_dir: Path,
    layout: str,
    sources: Sequence[tuple[str, str]],
    targets: Sequence[str],
    aligned_layout: str = ALIGNED_LAYOUT,
    alternatives: Sequence[str] = (DEFAULT_LAYOUT,),
) -> list[list[tuple[str | None, Path]]]:
    """Every output of a run, per source: (target, path), the aligned JSONL last with target None.

    `sources` are (how the user named it, the document name the layout sees).  Every path is
    checked (output_path) and every collision found here, before anything is written:
    OutputCollision names both sources and, where one exists, a layout that separates them.
    """
    planned: list[list[tuple[str | None, Path]]] = []
    owner: dict[Path, tuple[str, str | None]] = {}
    for label, name in sources:
        paths = [(lang, output_path(out_dir, layout, name, lang)) for lang in targets]
        paths.append((None, output_path(out_dir, aligned_layout, name, "")))
        for lang, path in paths:
            if path in owner:
                raise OutputCollision(_collision(owner[path], (label, lang), path, out_dir, layout, sources, targets,
                                                 aligned_layout, alternatives))
            owner[path] = (label, lang)
        planned.append(paths)
    return planned


def _collision(first: tuple[str, str | None], second: tuple[str, str | None], path: Path, out_dir: Path,
               layout: str, sources: Sequence[tuple[str, str]], targets: Sequence[str], aligned_layout: str,
               alternatives: Sequence[str]) -> str:
    def who(label: str, lang: str | None) -> str:
        same_source = first[0] == second[0]
        return f"{label} ({lang or 'aligned JSONL'})" if same_source or lang is None else label

    try:
        where = path.relative_to(out_dir.resolve()).as_posix()
    except ValueError:  # pragma: no cover - output_path keeps every path inside
        where = str(path)
    candidates = ([] if "{lang}" in layout else [f"{{lang}}/{layout}"]) + list(alternatives)
    fix = next((f"use --layout '{c}'" for c in dict.fromkeys(candidates)
                if c != layout and _separates(c, sources, targets, aligned_layout)),
               "they have the same name: translate them in separate runs with different --out, or rename one")
    return f"--layout '{layout}' writes both {who(*first)} and {who(*second)} to {where}; {fix}"


def _separates(layout: str, sources: Sequence[tuple[str, str]], targets: Sequence[str], aligned_layout: str) -> bool:
    """Does `layout` give every output of the run its own file (compared as normalised relative paths)?"""
    seen: set[str] = set()
    for _, name in sources:
        for lang, chosen in [*((t, layout) for t in targets), ("", aligned_layout)]:
            relative = os.path.normpath(fill_layout(chosen, name, lang))
            if relative in seen:
                return False
            seen.add(relative)
    return True


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
        os.fchmod(fd, file_mode(path))
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
            os.fchmod(fd, file_mode(path))
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


def file_mode(path: Path) -> int:
    """The mode a file written at `path` gets: an existing file keeps its own, a new one gets
    what the umask allows (0644 under the usual 022), as `open()` would have given it; the
    temporary file of an atomic write is created 0600 and would otherwise pass that on."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask; Linux shows it in /proc, elsewhere it can only be read by setting it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


@contextmanager
def staged_dir(target: Path, name: str | None = None) -> Iterator[Path]:
    """A folder beside `target` to fill; once filled it replaces `target` whole, so a reader
    never sees half of it, and on an error nothing of it is left (caches: CTranslate2
    conversions, unpacked Argos packages).  `name` names the staging folder (default: target's)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{name or target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
