"""Each Apertium call has a fixed cost (its deformatter and reformatter; the whole pipeline's
start, about 0.5 s, where null-flush is not possible), so the number of calls is the per-block
cost of a long document (issue 13, item 9): thousands of rows go in one call, and a call whose
paragraphs come back merged is split in halves, not redone one row at a time."""

from __future__ import annotations

import re

from multitrans.engines.apertium import ApertiumEngine
from multitrans.engines.base import EngineOptions, ModelSpec


def _engine(monkeypatch, merge: str | None = None) -> tuple[ApertiumEngine, list[int]]:
    """An engine whose pipeline upper-cases each paragraph, merging the one holding `merge`
    with the next, like Apertium moving words across a boundary it should keep."""
    calls: list[int] = []

    def run(self, mode: str, text: str) -> str:
        paragraphs = re.findall(r"<p>(.*?)</p>", text)
        calls.append(len(paragraphs))
        out, skip = [], False
        for n, paragraph in enumerate(paragraphs):
            if skip:
                skip = False
                continue
            if merge is not None and merge in paragraph and n + 1 < len(paragraphs):
                out.append(f"<p>{paragraph.upper()} {paragraphs[n + 1].upper()}</p>")
                skip = True
            else:
                out.append(f"<p>{paragraph.upper()}</p>")
        return "\n".join(out)

    monkeypatch.setattr(ApertiumEngine, "_run", run)
    monkeypatch.setattr(ApertiumEngine, "mode", lambda self, src, tgt: "nob-nno")
    return ApertiumEngine(ModelSpec("apertium", "apertium"), EngineOptions()), calls


def test_thousands_of_rows_take_one_call(monkeypatch):
    engine, calls = _engine(monkeypatch)
    rows = [(f"linje {n}", "nb", "nn") for n in range(3000)]
    assert engine.translate_multi(rows) == [f"LINJE {n}" for n in range(3000)]
    assert calls == [3000]  # it was 47 calls of 64 rows


def test_a_merged_paragraph_costs_a_few_calls_not_one_per_row(monkeypatch):
    engine, calls = _engine(monkeypatch, merge="linje 700")
    rows = [f"linje {n}" for n in range(1000)]
    translated = engine.translate(rows, "nb", "nn")
    assert translated[:700] == [f"LINJE {n}" for n in range(700)]
    assert translated[701:] == [f"LINJE {n}" for n in range(701, 1000)]
    assert translated[700] == "LINJE 700"  # alone in its call, the row has no neighbour to merge with
    assert len(calls) <= 25  # halving: about 2 log2(1000); it was 1 + 1000
