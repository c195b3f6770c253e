"""Exchange with translators: export a run as XLIFF or TMX, import an edited XLIFF back.

The library side of `multitrans export` and `multitrans import` (cli/exchange.py only parses
options and prints).  Export is a translation run like `translate`, except that it
reads the translation memory without writing to it: exporting publishes nothing, so it
records nothing.  Import writes the rebuilt document where `translate` would have
written it and puts every edited segment into the memory, under the key of the engine
configuration that wrote the machine translation, which is the key the next run looks
up; an edit (attempt `human_edit`) replaces the machine translation the key held.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..document import Document
from ..engines.identity import IDENTITY_FIELDS, EngineIdentity
from ..output import DEFAULT_LAYOUT, output_path, write_atomic
from .xliff import Imported, XliffError, export_xliff, import_xliff, iter_segments

if TYPE_CHECKING:
    from ..document import DocumentResult

XLIFF_LAYOUT = "{name}.{lang}.xlf"
MAX_XLIFF_BYTES = 1 << 30  # an article's XLIFF is a few hundred kB; this only bounds a hostile one
TMX_LAYOUT = "{name}.tmx"


@dataclass
class ImportReport:
    path: Path
    edits: int
    remembered: int
    problems: list[str] = field(default_factory=list)


def translate_for_export(documents: Sequence[Document], targets: Sequence[str], memory: Path | None = None,
                         **kwargs: Any) -> tuple[list[DocumentResult], dict[tuple[str, str], dict[str, str]]]:
    """Translate like `translate_documents` (reading, not writing, the memory) and return the
    identity fields of every engine that ran, by (engine, model) as blocks name them."""
    from ..api import translate_documents
    from ..engines.base import EngineOptions
    from ..engines.pool import EnginePool
    from ..memory.session import memory_session

    pool = EnginePool(kwargs.pop("options", None) or EngineOptions())
    try:
        with memory_session(memory, write=False) as session:
            results = translate_documents(documents, targets, pool=pool, memory=session, **kwargs)
        identities = {}
        for engine in pool.loaded.values():
            identity = engine.identity()
            identities[(identity.engine, identity.model)] = identity.as_dict()
        return results, identities
    finally:
        pool.close()


def write_xliff(result: DocumentResult, out_dir: Path, identities: dict[tuple[str, str], dict[str, str]]) -> list[Path]:
    """One XLIFF 2.1 file per target language: OUT/<name>.<lang>.xlf."""
    paths = []
    for lang in result.translations:
        path = output_path(out_dir, XLIFF_LAYOUT, result.document.name, lang)
        write_atomic(path, export_xliff(result, lang, identities))
        paths.append(path)
    return paths


def tmx_entries(result: DocumentResult, identities: dict[tuple[str, str], dict[str, str]],
                timestamp: float) -> list[dict[str, Any]]:
    """The article's aligned sentences in every target, as the memory's TMX writer takes them.

    Only sentences an engine translated: copied and untranslated blocks hold no pair.
    `timestamp` (the source file's modification time) makes the file reproducible."""
    entries = []
    for lang, blocks in result.translations.items():
        for block, block_lang, segment in iter_segments(result, lang):
            translation = blocks[block.id]
            if translation.engine in (None, "copy") or segment.target is None:
                continue
            identity = identities.get((translation.engine, translation.model)) or \
                {"engine": translation.engine, "model": translation.model or ""}
            entries.append({**identity, "src": block_lang, "tgt": lang, "source": segment.source,
                            "translation": segment.target, "created": timestamp, "used": timestamp})
    return entries


def write_tmx_file(result: DocumentResult, out_dir: Path, identities: dict[tuple[str, str], dict[str, str]],
                   timestamp: float) -> Path:
    """OUT/<name>.tmx with every aligned sentence of every target (TMX 1.4b, written by tmx.py)."""
    from .tmx import export_file, write_tmx

    path = output_path(out_dir, TMX_LAYOUT, result.document.name, "")
    export_file(tmx_entries(result, identities, timestamp), path, write_tmx, srclang=result.lang)
    return path


def import_file(xlf: Path, out_dir: Path, layout: str = DEFAULT_LAYOUT, memory: Path | None = None) -> ImportReport:
    """Rebuild the translated document from an (edited) XLIFF file and remember the edits.

    The document goes where `translate --out OUT --layout LAYOUT` puts it; with `memory`,
    every edited segment is stored there (and checked to be what the memory now holds)."""
    from ..inputs import InputError, read_regular

    try:
        data = read_regular(xlf, MAX_XLIFF_BYTES)
    except FileNotFoundError as exc:
        raise XliffError(f"no such file: {xlf}") from exc
    except InputError as exc:
        raise XliffError(str(exc)) from exc
    except OSError as exc:
        raise XliffError(f"cannot read {xlf}: {exc.strerror or exc}") from exc
    imported = import_xliff(data, str(xlf))
    path = output_path(out_dir, layout, imported.document.name, imported.lang)
    write_atomic(path, imported.text())
    remembered = remember_edits(imported, memory) if memory is not None and imported.edits else 0
    return ImportReport(path, len(imported.edits), remembered, imported.problems)


def remember_edits(imported: Imported, memory_path: Path) -> int:
    """Store the translator's edits in the memory, in place of the machine translations of
    their keys; returns how many it now holds.

    An edit without engine metadata cannot be keyed, and is reported rather than silently
    dropped."""
    from ..memory.store import Entry, TranslationMemory
    from ..pipeline.quality import HUMAN

    entries: list[Entry] = []
    for edit in imported.edits:
        if not edit.identity or not all(k in edit.identity for k in IDENTITY_FIELDS):
            imported.problems.append(f"unit u{edit.unit} segment {edit.segment}: no engine metadata in the XLIFF; "
                                     "the edit is in the document but not in the translation memory")
            continue
        identity = EngineIdentity(**{k: edit.identity[k] for k in IDENTITY_FIELDS})
        entries.append(Entry(identity.key(edit.src, edit.tgt, edit.source), identity, edit.src, edit.tgt,
                             edit.source, edit.edited, attempt=HUMAN))
    if not entries:
        return 0
    with TranslationMemory(memory_path) as memory:
        memory.store(entries)
        held = memory.lookup([e.key for e in entries])
    remembered = 0
    for entry in entries:
        hit = held.get(entry.key)
        if hit is not None and hit.translation == entry.translation:
            remembered += 1
        else:  # the sentence occurs twice in the file, edited differently: the last edit is kept
            imported.problems.append(
                f"{entry.source[:60]!r} ({entry.src}→{entry.tgt}) was edited differently in two places; the "
                "memory keeps the last edit, so later runs reuse that one")
    return remembered


def file_timestamp(path: Path) -> float:
    """A file's modification time, or now for standard input."""
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()
