"""From prepared documents and target languages to deduplicated work per engine.

The source is read, detected and segmented once; here every (block, target) is given
a route, and every sentence that needs translating becomes one task keyed by
(engine, source language, target language, text), so a sentence that occurs in many
blocks or documents is translated once per pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..document import Document
from ..engines.base import Engine
from ..engines.pool import EnginePool
from ..languages import name as language_name
from ..config.registry import Registry
from .segment import Piece, without_acronyms

TaskKey = tuple[str, str, str, str]  # engine name, src, tgt, text
Tasks = dict[str, dict[tuple[str, str], dict[str, tuple[str, ...]]]]


@dataclass(frozen=True)
class PreparedDocument:
    """A document after detection and segmentation: what planning needs."""

    document: Document
    lang: str
    confidence: float
    block_langs: tuple[str, ...]
    pieces: tuple[tuple[Piece, ...], ...]  # per block


@dataclass(frozen=True)
class Assignment:
    """How one block reaches one target language."""

    engine: Engine | None  # None: copied (already in the target language) or no route could serve it
    src: str
    note: str | None = None


@dataclass
class Plan:
    targets: tuple[str, ...]
    # assignments[doc][target][block]
    assignments: list[dict[str, list[Assignment]]]
    # tasks per engine name: (src, tgt) -> unique text -> its protected spans, in first-seen order
    tasks: Tasks = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def task_count(self) -> int:
        return sum(len(texts) for pairs in self.tasks.values() for texts in pairs.values())


def build_plan(docs: Sequence[PreparedDocument], targets: Sequence[str], registry: Registry, pool: EnginePool) -> Plan:
    plan = Plan(tuple(targets), [])
    tasks: Tasks = defaultdict(lambda: defaultdict(dict))
    routes: dict[tuple[str, str], Assignment] = {}
    for doc in docs:
        per_target: dict[str, list[Assignment]] = {}
        for tgt in targets:
            row = []
            for src, pieces in zip(doc.block_langs, doc.pieces):
                assignment = _assign(src, tgt, registry, pool, routes, plan.problems)
                row.append(assignment)
                if assignment.engine is None:
                    continue
                pair_tasks = tasks[assignment.engine.spec.name][(src, tgt)]
                keeps_acronyms = assignment.engine.keeps_acronyms
                for piece in pieces:
                    if piece.translate:
                        pair_tasks.setdefault(piece.text, piece.spans if keeps_acronyms else without_acronyms(piece.spans))
            per_target[tgt] = row
        plan.assignments.append(per_target)
    plan.tasks = {name: dict(pairs) for name, pairs in tasks.items()}
    return plan


def _assign(
    src: str, tgt: str, registry: Registry, pool: EnginePool,
    routes: dict[tuple[str, str], Assignment], problems: list[str],
) -> Assignment:
    if src == tgt:
        return Assignment(None, src, "already in the target language; copied")
    if (src, tgt) not in routes:
        engine, reasons = pool.choose(registry.candidates(src, tgt), src, tgt)
        if engine is None:
            why = "; ".join(reasons) or f"no route in {registry.path} serves this pair"
            note = f"not translated: no model available for {language_name(src)} ({src}) → {language_name(tgt)} ({tgt}): {why}"
            if "models pull" in why:
                note += f" (here: multitrans models pull --to {tgt} --from {src})"
            routes[(src, tgt)] = Assignment(None, src, note)
            problems.append(note)
        else:
            routes[(src, tgt)] = Assignment(engine, src)
    return routes[(src, tgt)]
