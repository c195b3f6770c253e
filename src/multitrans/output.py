"""Where translations go and how they are written: layout templates, atomic files, aligned JSONL."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

DEFAULT_LAYOUT = "{lang}/{name}"
ALIGNED_LAYOUT = "aligned/{name}.jsonl"


class OutputError(ValueError):
    """An output path is invalid or would leave the output directory."""


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
    root = out_dir.resolve()
    target = (root / relative).resolve()
    if target == root or root not in target.parents:
        raise OutputError(f"--layout '{layout}' puts '{name}' at '{relative}', outside the output directory {out_dir}")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so no reader ever sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
