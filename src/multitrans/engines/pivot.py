"""Pivot routes: a translation built from two translations, src→via with one engine, then via→tgt with another.

Like argos-translate's composite translation, a pivot is an engine made of two engines, so
everything that works on an engine (memory, quality checks, repair, span protection, the
aligned record, `--check`) works on it whole.  What a composite alone would not give is the
first hop once: forty targets through English need one source→English pass, not forty.
So every pivot whose first hop runs on the same engine shares one `FirstHop`, which keeps
each intermediate translation it made; `pipeline/run.py` hands it every pivot task of the
plan (all targets, all documents) as one job before the pivots run, and `memory/session.py`
seeds it from the translation memory and stores what it made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .base import Decoding, Engine, ModelSpec, expect_count
from .identity import EngineIdentity, ExpectedIdentity

PIVOT = "pivot"  # the engine name of a pivot, in the aligned record and in its identity
HOP_SEP = " > "  # joins the two hops' values in a pivot's model name and identity fields
Row = tuple[str, str, str]  # (text, src, tgt)


@dataclass(frozen=True)
class PivotSpec(ModelSpec):
    """A route through a bridge language for one (src, tgt): the models that may serve each hop, in order."""

    src: str = ""
    tgt: str = ""
    via: str = ""
    first: tuple[ModelSpec, ...] = ()
    second: tuple[ModelSpec, ...] = ()

    def describe(self) -> str:
        """The route as `languages` and `models list` show it."""
        return f"via {self.via} ({', '.join(s.name for s in self.first)} → {', '.join(s.name for s in self.second)})"


class FirstHop:
    """One engine's src→via translations for every pivot that starts with it: each row translated once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.done: dict[Row, str] = {}
        self.fresh: dict[Row, str] = {}  # made by the engine in this run (not remembered): for the memory to keep
        self.calls = 0  # first-attempt engine jobs run (the benchmark and the tests count them)
        self.retries = 0  # engine jobs with other decoding, for repair

    def remember(self, row: Row, translation: str) -> None:
        """A translation found in the translation memory, so the engine need not make it."""
        self.done.setdefault(row, translation)

    def translate(self, rows: Sequence[Row], decoding: Decoding | None = None) -> list[str]:
        """Each row's translation; rows not yet translated go to the engine as one job.  A retry
        with other decoding (repair) is translated afresh and not kept."""
        if decoding is not None:
            self.retries += 1
            tuned = decoding if self.engine.tunable_decoding else None
            return list(expect_count(self.engine.translate_multi(rows, decoding=tuned), len(rows)))
        todo = [row for row in dict.fromkeys(rows) if row not in self.done]
        if todo:
            self.calls += 1
            made = dict(zip(todo, expect_count(self.engine.translate_multi(todo), len(todo))))
            self.done.update(made)
            self.fresh.update(made)
        return [self.done[row] for row in rows]

    def take_fresh(self) -> dict[Row, str]:
        fresh, self.fresh = self.fresh, {}
        return fresh


class PivotEngine(Engine):
    """src→tgt as src→via by the first hop's engine, then via→tgt by the second's."""

    def __init__(self, first: FirstHop, second: Engine, via: str, route: str) -> None:
        name = f"{first.engine.spec.name}{HOP_SEP}{second.spec.name}"
        super().__init__(ModelSpec(name=name, engine=PIVOT, model=f"{first.engine.model_id}{HOP_SEP}{second.model_id}"),
                         second.options)
        self.first, self.second, self.via = first, second, via
        self.route = route  # the name of the registry's candidate that chose it (repair's next route starts after it)
        self.tunable_decoding = first.engine.tunable_decoding or second.tunable_decoding

    @property
    def hops(self) -> tuple[Engine, Engine]:
        return self.first.engine, self.second

    @property
    def max_input_tokens(self) -> int | None:
        return self.first.engine.max_input_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.first.engine.count_tokens(texts)

    def unknown_characters(self, text: str) -> set[str]:
        return self.first.engine.unknown_characters(text)

    def identity(self) -> EngineIdentity:
        """Both hops' identities, field by field: a change in either changes the pivot's memory key
        and what `--check` expects."""
        a, b = (engine.identity().as_dict() for engine in self.hops)
        return EngineIdentity(PIVOT, *(f"{a[k]}{HOP_SEP}{b[k]}" for k in list(a)[1:]))

    def intermediate(self, text: str, src: str) -> str | None:
        """The first hop's translation of `text`, when it made (or remembered) one."""
        return self.first.done.get((text, src, self.via))

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        return self.translate_multi([(s, src, tgt) for s in segments], decoding=decoding)

    def translate_multi(
        self,
        rows: Sequence[Row],
        on_progress: Callable[[int], None] | None = None,
        decoding: Decoding | None = None,
    ) -> list[str]:
        middle = self.first.translate([(text, src, self.via) for text, src, _ in rows], decoding)
        second_rows = list(dict.fromkeys((m, self.via, tgt) for m, (_, _, tgt) in zip(middle, rows) if m.strip()))
        tuned = decoding if self.second.tunable_decoding else None
        made = (expect_count(self.second.translate_multi(second_rows, decoding=tuned), len(second_rows))
                if second_rows else [])
        done = dict(zip(second_rows, made))
        if on_progress:
            on_progress(len(rows))
        return [done.get((m, self.via, tgt), m) for m, (_, _, tgt) in zip(middle, rows)]


def prefetch(pivots: Iterable[tuple[PivotEngine, Iterable[tuple[str, str]]]]) -> None:
    """Run the first hop of every (pivot, [(text, src)]) given, one job per first-hop engine, so that
    the pivots' own jobs find their intermediates made.  A failure is left for the pivot's own job
    (which runs the hop again, and reports it pair by pair)."""
    jobs: dict[int, tuple[FirstHop, dict[Row, None]]] = {}
    for pivot, texts in pivots:
        _, rows = jobs.setdefault(id(pivot.first), (pivot.first, {}))
        rows.update(((text, src, pivot.via), None) for text, src in texts)
    for hop, rows in jobs.values():
        try:
            hop.translate(list(rows))
        except Exception:  # noqa: BLE001 - see the docstring
            continue


@dataclass(frozen=True)
class PivotExpected:
    """The identity a pivot would have now: each hop's (ExpectedIdentity), compared hop by hop."""

    first: ExpectedIdentity
    second: ExpectedIdentity

    def changes(self, recorded: Mapping[str, str]) -> list[str]:
        split = {k: (v.split(HOP_SEP, 1) + [""])[:2] for k, v in recorded.items()}
        found = []
        for i, (hop, expected) in enumerate((("first hop", self.first), ("second hop", self.second))):
            found += [f"{hop} {change}" for change in expected.changes({k: v[i] for k, v in split.items()})]
        return found


def new_pivot(
    spec: PivotSpec, choose: Callable[[Sequence[ModelSpec], str, str], tuple[Engine | None, list[str]]],
    first_hops: dict[str, FirstHop], pivots: dict[str, PivotEngine],
) -> tuple[PivotEngine | None, list[str]]:
    """The pivot for `spec` from the first usable model of each hop (`choose` is the pool's), sharing
    the first hop's `FirstHop` and the composed engine with every other pivot made of the same models;
    None with the reasons when a hop has no usable model."""
    first, why_first = choose(spec.first, spec.src, spec.via)
    if first is None:
        return None, [f"first hop {spec.src}→{spec.via}: {'; '.join(why_first) or 'no model'}"]
    second, why_second = choose(spec.second, spec.via, spec.tgt)
    if second is None:
        return None, [f"second hop {spec.via}→{spec.tgt}: {'; '.join(why_second) or 'no model'}"]
    hop = first_hops.setdefault(first.spec.name, FirstHop(first))
    name = f"{first.spec.name}{HOP_SEP}{second.spec.name}"
    if name not in pivots:
        pivots[name] = PivotEngine(hop, second, spec.via, spec.name)
    return pivots[name], []
