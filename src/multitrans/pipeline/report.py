"""The run's quality report: what `--report FILE.json` holds and the CLI's flag table shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..document import DocumentResult
from .quality import FIRST


def report(results: Iterable[DocumentResult]) -> dict[str, Any]:
    """The run's quality report (what `--report FILE.json` holds): totals, per document and
    language counts, and one row per flag."""
    rows: list[dict[str, Any]] = []
    documents = []
    totals: Counter[str] = Counter()
    for result in results:
        per_target = {}
        for tgt, blocks in result.translations.items():
            counts: Counter[str] = Counter()
            for block, translation in zip(result.document.blocks, blocks):
                for flag in translation.flags:
                    counts[flag.code] += 1
                    rows.append({"document": result.document.name, "block": block.id, "lang": tgt,
                                 "code": flag.code, "detail": flag.detail, "attempt": translation.attempt,
                                 "engine": translation.engine, "model": translation.model})
            retried = sum(1 for t in blocks if t.attempt not in (None, FIRST))
            per_target[tgt] = {"blocks": len(blocks), "flagged": sum(1 for t in blocks if t.flags),
                               "repaired": retried, "flags": dict(sorted(counts.items()))}
            totals.update(counts)
        documents.append({"document": result.document.name, "lang": result.lang, "targets": per_target,
                          "problems": list(dict.fromkeys(result.problems)), "notes": list(result.notes)})
    return {"flags": dict(sorted(totals.items())), "documents": documents, "rows": rows}
