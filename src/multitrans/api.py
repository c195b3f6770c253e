"""The public Python API: everything the CLI does, usable without it.

    from multitrans import translate_document
    result = translate_document("article.txt", ["nn", "da", "sv"])
    print(result.text("nn"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config.glossary import Glossary
from .config.registry import Registry, load_registry
from .document import BlockTranslation, Document, DocumentResult
from .engines.base import EngineOptions
from .engines.pool import EnginePool
from .errors import UserError
from .formats import format_for, parse
from .inputs import DEFAULT_MAX_BYTES, read_text
from .languages import are_close, normalize, parse_list
from .languages import get as get_language
from .output import ALIGNED_LAYOUT, DEFAULT_LAYOUT, jsonl, output_path, write_atomic_all
from .pipeline.assemble import assemble
from .pipeline.plan import Plan, PreparedDocument, build_plan
from .pipeline.quality import Checker
from .pipeline.repair import Checked, check_and_repair
from .pipeline.run import run_plan
from .pipeline.segment import segment_block

__all__ = [
    "BlockTranslation", "DocumentResult", "detect_document", "detect_file", "parse_document", "read_document",
    "translate_document", "translate_documents", "write_result",
]

if TYPE_CHECKING:
    from .memory.session import MemorySession
    from .pipeline.detect import (
        Detection,
        DocumentDetection,
        LanguageDetector,
        LanguageReport,
    )


def read_document(
    path: str | Path, fmt: str | None = None, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
) -> Document:
    """Read a .txt or .md file into a Document; InputError (one line) for anything that is not
    a readable text article (see inputs.py)."""
    path = Path(path)
    fmt = format_for(path.name, fmt)
    return parse(read_text(path, encoding=encoding, max_bytes=max_bytes), path.name, fmt)


def parse_document(text: str, name: str = "stdin.txt", fmt: str | None = None) -> Document:
    return parse(text, name, format_for(name, fmt))


def new_detector() -> LanguageDetector:
    from .pipeline.detect import LanguageDetector

    return LanguageDetector()


def detect_document(document: Document, detector: LanguageDetector | None = None) -> DocumentDetection:
    """The document's language (with confidence) and each block's, as detected."""
    detector = detector or new_detector()
    return detector.detect_document([b.text for b in document.blocks])


def detect_file(
    path: str | Path, detector: LanguageDetector | None = None, fmt: str | None = None,
) -> LanguageReport:
    """What `multitrans detect` reports for one file: every language the detector knows,
    translatable or not, or the one-line reason it could not read or decide the file."""
    from .pipeline.detect import LanguageReport

    detector = detector or new_detector()
    try:
        document = read_document(path, fmt)
        texts = [b.text for b in document.blocks]
        found = detector.detect_document(texts, best_guess=True)
    except UserError as exc:
        return LanguageReport.failed(str(path), getattr(exc, "reason", str(exc)))
    return LanguageReport.of(str(path), [b.id for b in document.blocks], texts, found)


def prepare(
    document: Document, detector: LanguageDetector, source_lang: str | None = None, glossary: Glossary | None = None,
) -> PreparedDocument:
    """Detect and segment a document once, for every target; names the glossary keeps are protected spans."""
    if source_lang:
        lang, confidence = normalize(source_lang), 1.0
        texts = [b.text for b in document.blocks]
        block_langs = tuple(_named_block_language(found, text, lang)
                            for found, text in zip(detector.detect_many(texts), texts, strict=True))
    else:
        found = detector.detect_document([b.text for b in document.blocks])
        lang, confidence = found.lang, found.confidence
        block_langs = tuple(_block_language(d.lang, lang) for d in found.blocks)
    pieces = tuple(
        tuple(segment_block(b.text, blang, (*b.protected, *(glossary.keep_spans(b.text) if glossary else ()))))
        for b, blang in zip(document.blocks, block_langs)
    )
    return PreparedDocument(document, lang, confidence, block_langs, pieces)


def _named_block_language(guess: Detection, text: str, named: str) -> str:
    """A block's language when the user named the source: a misreading must never leave a
    sentence of the named language untranslated, so the detector is overruled unless sure:
    another script, or strong evidence (detect.strong_evidence) of a language not close to it."""
    from .pipeline.detect import strong_evidence

    lang = _block_language(guess.lang, named)
    if lang == named or get_language(lang).script != get_language(named).script:
        return lang
    if strong_evidence(text, guess.confidence):
        return lang
    return named


def _block_language(guess: str | None, document_lang: str) -> str:
    if guess is None or guess == document_lang:
        return document_lang
    # Block-level identification cannot tell close languages apart reliably on a sentence
    # or two, so a block "detected" as a sibling of the document's language keeps the document's.
    if are_close(guess, document_lang, "block"):
        return document_lang
    return guess


def translate_documents(
    documents: Sequence[Document],
    targets: Sequence[str],
    *,
    registry: Registry | None = None,
    options: EngineOptions | None = None,
    source_lang: str | None = None,
    detector: LanguageDetector | None = None,
    pool: EnginePool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    memory: MemorySession | None = None,
    glossary: Glossary | None = None,
) -> list[DocumentResult]:
    """Translate documents into every target in one pass: each model loads once and serves all its pairs.

    `on_progress(advance, total)` is called as sentences are translated.  With `memory`,
    remembered sentences never reach an engine and new translations are remembered.
    `glossary` defaults to the registry's; every translation is checked and flagged ones
    retried (repair.py), and each block carries its remaining flags.
    """
    targets = parse_list(",".join(targets)) if targets else []
    if not targets:
        raise UserError("no target language given; pass one or more codes, e.g. --to nn,da,sv")
    registry = registry or load_registry()
    detector = detector or new_detector()
    own_pool = pool is None
    pool = pool or EnginePool(options or EngineOptions())
    try:
        glossary = registry.glossary if glossary is None else glossary
        prepared = [prepare(doc, detector, source_lang, glossary) for doc in documents]
        plan = build_plan(prepared, targets, registry, pool)
        checker = Checker(detector)

        def work(todo: Plan) -> Checked:
            total = todo.task_count
            progress = (lambda n: on_progress(n, total)) if on_progress else None
            return check_and_repair(todo, run_plan(todo, pool.loaded, progress), pool, registry, checker, glossary)

        checked = memory.around(plan, pool.loaded, work) if memory is not None else work(plan)
        return [assemble(doc, assignments, checked.translations, checked.quality, plan.problems, checked.problems)
                for doc, assignments in zip(prepared, plan.assignments)]
    finally:
        if own_pool:
            pool.close()


def translate_document(document: Document | str | Path, targets: Sequence[str], **kwargs) -> DocumentResult:
    """Translate one document (a Document or a file path); see `translate_documents` for the options."""
    if not isinstance(document, Document):
        document = read_document(document)
    return translate_documents([document], targets, **kwargs)[0]


def write_result(result: DocumentResult, out_dir: str | Path, layout: str = DEFAULT_LAYOUT) -> list[Path]:
    """Write one file per target language and the aligned JSONL; every path stays inside `out_dir`.

    All or nothing: when any file cannot be written (disk full, read-only directory), none
    of the document's new files is left and WriteError says why (output.write_atomic_all).
    """
    out = Path(out_dir)
    name = result.document.name
    jobs = [(output_path(out, layout, name, lang), result.text(lang)) for lang in result.translations]
    jobs.append((output_path(out, ALIGNED_LAYOUT, name, ""), jsonl(result.records())))
    write_atomic_all(jobs)
    return [path for path, _ in jobs]
