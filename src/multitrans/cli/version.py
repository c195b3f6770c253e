"""`multitrans --version`: this package and the engines' libraries it would run with.

A bug report needs the versions that were actually installed, not the ones pyproject allows, so
they are read from the installed distributions' metadata: nothing heavy is imported (torch alone
takes seconds), and `--version` answers at once.  Apertium is no Python package; its version is
the Debian package's, when dpkg knows it.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata

NOT_FOUND = "not found"
# (name shown, distribution on PyPI)
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("transformers", "transformers"),
    ("CTranslate2", "ctranslate2"),
    ("lingua", "lingua-language-detector"),
)


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_FOUND


def apertium_version() -> str:
    """The Debian package's version; the `apertium` program has no version option of its own."""
    program = shutil.which("apertium")
    if program is None:
        return NOT_FOUND
    if shutil.which("dpkg-query") is not None:
        try:
            done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "apertium"], capture_output=True,
                                  text=True, check=False, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return f"installed at {program} (version unknown)"


def versions() -> list[tuple[str, str]]:
    """(name, version) of multitrans and of each library that serves a route, first multitrans."""
    found = [("multitrans", _distribution_version("multitrans"))]
    found += [(shown, _distribution_version(distribution)) for shown, distribution in LIBRARIES]
    found.append(("Apertium", apertium_version()))
    return found


def version_text() -> str:
    """What `--version` prints: `multitrans 0.1.0` on the first line, one library a line after it."""
    (_, own), *others = versions()
    width = max(len(name) for name, _ in others)
    return "\n".join([f"multitrans {own}"] + [f"  {name.ljust(width)}  {version}" for name, version in others])
