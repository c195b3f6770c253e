"""TMX 1.4b export of the translation memory, for translators' CAT tools (Trados, memoQ, OmegaT...).

One <tu> per remembered sentence, with the fields of the identity of the engine that
wrote it (engines/identity.py) as <prop>s; entries are written in a stable order,
streamed to a temporary file and renamed into place, so a large memory never sits in RAM
and a reader never sees half a file.  Characters XML 1.0 cannot hold (C0 controls other
than tab and newline) are written as U+FFFD.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from .. import __version__
from ..engines.identity import IDENTITY_FIELDS
from ..output import atomic_file
from .xmltext import ILLEGAL_XML


def _text(value: str) -> str:
    return escape(ILLEGAL_XML.sub("\ufffd", value))


def _date(timestamp: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(timestamp))


def write_tmx(entries: Iterable[dict[str, Any]], handle: IO[str], srclang: str = "*all*") -> int:
    """Write `entries` (as `TranslationMemory.entries` yields them) as TMX 1.4b; returns the count."""
    handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4">\n')
    handle.write(f'  <header creationtool="multitrans" creationtoolversion={quoteattr(__version__)} '
                 f'segtype="sentence" o-tmf="multitrans-sqlite" adminlang="en" srclang={quoteattr(srclang)} '
                 'datatype="plaintext"/>\n  <body>\n')
    count = 0
    for e in entries:
        handle.write(f'    <tu creationdate="{_date(e["created"])}" changedate="{_date(e["used"])}">\n')
        for name in IDENTITY_FIELDS:
            if e.get(name):
                handle.write(f'      <prop type="x-{name}">{_text(str(e[name]))}</prop>\n')
        handle.write(f'      <tuv xml:lang={quoteattr(e["src"])}><seg>{_text(e["source"])}</seg></tuv>\n')
        handle.write(f'      <tuv xml:lang={quoteattr(e["tgt"])}><seg>{_text(e["translation"])}</seg></tuv>\n')
        handle.write("    </tu>\n")
        count += 1
    handle.write("  </body>\n</tmx>\n")
    return count


def export_file(entries: Iterable[dict[str, Any]], path: Path, writer: Any = write_tmx, **kwargs: Any) -> int:
    """Stream `entries` through `writer` into `path` atomically; returns the number written."""
    with atomic_file(path, newline="\n") as handle:
        count: int = writer(entries, handle, **kwargs)
    return count
