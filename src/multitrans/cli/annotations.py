"""`batch --check --output-format github`: stale outputs as GitHub Actions annotations.

GitHub turns a `::warning file=…,title=…::message` line on a step's output into a warning on
the named file, in the run's summary and in the pull request's diff, as ruff and other linters
use it.  The escaping is the Actions toolkit's (actions/toolkit, packages/core/src/command.ts):
in the message `%`, CR and LF are percent-encoded; in a property `:` and `,` as well, since
they separate the properties.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..archive.manifest import Stale


@dataclass(frozen=True)
class Annotation:
    """One stale, missing or orphaned output, with both paths as the repository sees them."""

    file: str  # where the warning is shown: the article, or the output when the article is gone
    source: str  # the article's path in the archive
    output: str  # the output's path under --out
    output_path: str  # the output as a path from the working directory
    reason: str

    @property
    def title(self) -> str:
        return f"stale translation {self.output_path}"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "source": self.source, "output": self.output, "output_path": self.output_path,
                "reason": self.reason}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _shown(path: Path) -> str:
    """A path as the workflow's working directory (the repository's root) names it."""
    if path.is_absolute():
        try:
            return Path(os.path.relpath(path, Path.cwd())).as_posix()
        except ValueError:  # another drive (Windows)
            return path.as_posix()
    return path.as_posix()


def annotations(archive: Path, out: Path, stale: list[Stale]) -> list[Annotation]:
    """The annotations of `check_batch`'s stale list, in its order."""
    found = []
    for entry in stale:
        output_path = _shown(out / entry.output)
        source_path = archive / entry.source if entry.source else None
        shown = _shown(source_path) if source_path is not None and source_path.exists() else output_path
        found.append(Annotation(shown, entry.source, entry.output, output_path, entry.reason))
    return found


def github_line(annotation: Annotation) -> str:
    return (f"::warning file={escape_property(annotation.file)},title={escape_property(annotation.title)}"
            f"::{escape_data(annotation.reason)}")
