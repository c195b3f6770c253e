"""Assembly: each document's blocks back together from the run's sentences, with their flags.

The last pipeline stage before writing.  It only reads what the earlier stages
produced (the plan's assignments, the translations, what quality checking found)
and builds the result once: every source block gets exactly one BlockTranslation
per target, in order, whether an engine translated it, it was copied (already in
the target language) or no model could serve it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..document import BlockTranslation, DocumentResult, Flag, Hop, Piece
from ..engines.pivot import PivotEngine
from ..formats import untranslated_note
from .plan import Assignment, PreparedDocument, TaskKey
from .quality import FIRST, Quality, later, quote


def assemble(
    doc: PreparedDocument,
    assignments: Mapping[str, Sequence[Assignment]],
    translations: Mapping[TaskKey, str],
    quality: Quality,
    plan_problems: Sequence[str],
    run_problems: Sequence[str],
) -> DocumentResult:
    """The document's result in every target.  Of the plan's problems (notes on routes that
    could not be served), only those that left a block of this document untranslated are kept."""
    result: dict[str, list[BlockTranslation]] = {}
    used_notes: set[str] = set()
    for tgt, row in assignments.items():
        blocks = []
        for block, assignment, pieces in zip(doc.document.blocks, row, doc.pieces):
            if assignment.engine is None:
                if assignment.src == tgt:
                    blocks.append(BlockTranslation(block.text, "copy", None, assignment.note))
                    continue
                if assignment.note:
                    used_notes.add(assignment.note)
                flag = Flag("not_translated", assignment.note or "no model could serve this block")
                blocks.append(BlockTranslation(block.text, None, None, assignment.note, flags=(flag,)))
                continue
            blocks.append(_translated(assignment, tgt, pieces, translations, quality))
        result[tgt] = blocks
    problems = [p for p in plan_problems if p in used_notes] + list(run_problems)
    note = untranslated_note(doc.document)
    return DocumentResult(doc.document, doc.lang, doc.confidence, doc.block_langs, result, problems,
                          [note] if note else [])


def _translated(
    assignment: Assignment, tgt: str, pieces: Sequence[Piece], translations: Mapping[TaskKey, str], quality: Quality,
) -> BlockTranslation:
    """A block an engine served: its sentences' translations joined, its sentences' flags (named by
    sentence where the block has several) and the latest attempt any of them needed."""
    engine = assignment.engine
    assert engine is not None
    name = engine.spec.name
    sentences = [p.text for p in pieces if p.translate]
    parts: list[str] = []
    flags: list[Flag] = []
    attempt: str | None = FIRST
    missing = 0
    for piece in pieces:
        if not piece.translate:
            parts.append(piece.text)
            continue
        key = (name, assignment.src, tgt, piece.text)
        where = f" in {quote(piece.text)}" if len(sentences) > 1 else ""
        if key not in translations:
            missing += 1
            parts.append(piece.text)
            flags.append(Flag("not_translated", f"the engine failed; the source was kept{where}"))
            continue
        parts.append(translations[key])
        flags.extend(Flag(f.code, f.detail + where) for f in quality.flags.get(key, ()))
        attempt = later(attempt, quality.attempts.get(key, FIRST))
    note = f"{missing} sentence(s) kept untranslated after an engine failure" if missing else None
    hops = _hops(engine, assignment.src, pieces, "".join(parts)) if isinstance(engine, PivotEngine) else ()
    return BlockTranslation("".join(parts), engine.spec.engine, engine.model_id, note, tuple(flags), attempt,
                            engine.runtime, tuple(zip(pieces, parts)), hops, None if hops else engine.decoding)


def _hops(pivot: PivotEngine, src: str, pieces: Sequence[Piece], text: str) -> tuple[Hop, ...]:
    """A pivot block's two hops, the first with the intermediate text its first hop wrote."""
    middle = [pivot.intermediate(p.text, src) if p.translate else p.text for p in pieces]
    first, second = pivot.hops
    return (Hop(first.spec.engine, first.model_id, first.runtime, None if None in middle else "".join(middle)),  # type: ignore[arg-type]
            Hop(second.spec.engine, second.model_id, second.runtime, text))
