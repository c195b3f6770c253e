"""Measure language detection on real news sentences: documents of three sentences and single ones.

    .venv/bin/python scripts/detect_eval.py [--data DIR] [--json] [--limit N]

The data is lingua-py's test set as kept in ``../shared/data/langid-dev/`` (200 Leipzig
news sentences per language, one file per ISO 639-1 code).  A *document* is three
consecutive sentences, one block each, as a plain-text article with three paragraphs
would be; a *single sentence* is a one-block document.  Both go through
``LanguageDetector.detect_document(..., best_guess=True)``, which is what ``multitrans
detect`` answers (untranslatable languages such as Latin included), and a refusal (too
little text, undecided) counts as wrong.  ``--translate`` judges the stricter decision
``translate`` takes instead (Latin and guesses under 50 % refused).  The expected language is the file's code; Bokmål and Nynorsk are reported on
their own because their route differs.  Time is the wall time of all detection calls in
this process, detector build and model loading included; peak memory is the process's
maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from multitrans.pipeline.detect import LanguageDetector, LanguageUndecided

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "langid-dev"
GOALS = {"documents": (0.98, 0.95), "sentences": (0.96, 0.80)}
SENTENCES_PER_DOCUMENT = 3


@dataclass
class Score:
    """Right answers per language and what the wrong ones were."""

    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, expected: str, got: str) -> None:
        self.total[expected] += 1
        if got == expected:
            self.right[expected] += 1
        else:
            self.confusions[(expected, got)] += 1

    def accuracy(self, lang: str | None = None) -> float:
        if lang is not None:
            return self.right[lang] / self.total[lang] if self.total[lang] else 0.0
        return sum(self.right.values()) / max(1, sum(self.total.values()))

    def summary(self, goal: tuple[float, float]) -> dict[str, object]:
        return {
            "items": sum(self.total.values()),
            "accuracy": round(self.accuracy(), 4),
            "nb": round(self.accuracy("nb"), 4),
            "nn": round(self.accuracy("nn"), 4),
            "goal_overall": goal[0],
            "goal_nb_nn": goal[1],
            "met": self.accuracy() >= goal[0] and min(self.accuracy("nb"), self.accuracy("nn")) >= goal[1],
            "per_language": {lang: round(self.accuracy(lang), 4) for lang in sorted(self.total)},
            "confusions": [
                {"expected": e, "got": g, "count": n}
                for (e, g), n in sorted(self.confusions.items(), key=lambda item: (-item[1], item[0]))
            ],
        }


def read_sets(data: Path, limit: int | None, only: set[str]) -> Iterator[tuple[str, list[str]]]:
    for path in sorted(data.glob("*.txt")):
        if only and path.stem not in only:
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        yield path.stem, lines[:limit] if limit else lines


def answer(detector: LanguageDetector, blocks: list[str], best_guess: bool) -> str:
    """The detector's language for a document, or why it gave none."""
    try:
        return detector.detect_document(blocks, best_guess=best_guess).lang
    except LanguageUndecided:
        return "(undecided)"


def evaluate(data: Path, limit: int | None, only: set[str], best_guess: bool = True) -> dict[str, object]:
    start = time.perf_counter()
    detector = LanguageDetector()
    documents, sentences = Score(), Score()
    for lang, lines in read_sets(data, limit, only):
        for i in range(0, len(lines) - SENTENCES_PER_DOCUMENT + 1, SENTENCES_PER_DOCUMENT):
            documents.add(lang, answer(detector, lines[i:i + SENTENCES_PER_DOCUMENT], best_guess))
        for line in lines:
            sentences.add(lang, answer(detector, [line], best_guess))
    seconds = time.perf_counter() - start
    calls = sum(documents.total.values()) + sum(sentences.total.values())
    return {
        "data": str(data),
        "decision": "detect" if best_guess else "translate",
        "languages": len(documents.total),
        "documents": documents.summary(GOALS["documents"]),
        "sentences": sentences.summary(GOALS["sentences"]),
        "seconds": round(seconds, 1),
        "ms_per_call": round(1000 * seconds / max(1, calls), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def print_table(result: dict[str, object], top: int) -> None:
    print(f"{result['languages']} languages from {result['data']}, as {result['decision']} decides")
    print(f"{'':<22}{'items':>7}{'overall':>9}{'nb':>7}{'nn':>7}  goal")
    for kind in ("documents", "sentences"):
        row = result[kind]
        assert isinstance(row, dict)
        goal = f"≥{row['goal_overall']} / ≥{row['goal_nb_nn']} each"
        print(f"{kind:<22}{row['items']:>7}{row['accuracy']:>9.3f}{row['nb']:>7.2f}{row['nn']:>7.2f}"
              f"  {goal} {'met' if row['met'] else 'NOT met'}")
    print(f"time {result['seconds']} s ({result['ms_per_call']} ms per call), "
          f"peak RSS {result['peak_rss_mb']} MB")
    for kind in ("documents", "sentences"):
        row = result[kind]
        assert isinstance(row, dict)
        confusions = row["confusions"]
        assert isinstance(confusions, list)
        print(f"\nbiggest confusions, {kind}:")
        for item in confusions[:top]:
            print(f"  {item['expected']} read as {item['got']}: {item['count']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of <code>.txt files")
    parser.add_argument("--limit", type=int, default=None, help="first N sentences per language")
    parser.add_argument("--only", default="", help="comma-separated codes: judge just these languages")
    parser.add_argument("--top", type=int, default=15, help="confusions to list")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--translate", action="store_true",
                        help="judge translate's decision (refusals below 50 %%, Latin refused)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no such folder: {args.data}")
    result = evaluate(args.data, args.limit, {code for code in args.only.split(",") if code},
                      best_guess=not args.translate)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
