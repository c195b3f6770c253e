"""A run's connection to the translation memory: look sentences up before engines run, store after.

The store (store.py) is the SQLite file; a session is what one command or one worker
holds while it translates.  It wraps the run (`MemorySession.around`): the work is
given a plan without the remembered sentences, and what it returns is stored and then
merged with what was remembered, into new results; the session edits neither the plan
nor the work's results.  Its `store` may write at once (a single command), hand entries
to a job's driver (Collector), or drop them (a read-only session: export, review).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..document import Flag
from ..engines.pivot import PivotEngine
from ..pipeline.plan import Plan, TaskKey, Tasks
from ..pipeline.quality import Quality
from ..pipeline.repair import Checked
from ..pipeline.segment import spans_intact
from .store import Entry, Remembered, TranslationMemory

if TYPE_CHECKING:
    from ..engines.base import Engine


Lookup = Callable[[Sequence[bytes]], dict[bytes, Remembered]]
Store = Callable[[list[Entry], list[bytes]], Any]
Work = Callable[[Plan], Checked]


@dataclass
class MemoryCounts:
    reused: int = 0  # sentences (per pair) taken from the memory
    translated: int = 0  # sentences (per pair) an engine translated and the memory now keeps
    tokens: int = 0  # whitespace-separated tokens in those new translations


@dataclass(frozen=True)
class Recalled:
    """What the memory answered for a plan: the plan of what is left to translate, the remembered
    tasks, and tasks that share a memory key with one left to translate (translated once)."""

    todo: Plan
    reused: dict[TaskKey, Remembered]
    aliases: dict[TaskKey, TaskKey]
    used: list[bytes]

    def merged(self, checked: Checked) -> Checked:
        """The work's results completed with the remembered translations, their flags and attempts."""
        translations = dict(checked.translations)
        flags = dict(checked.quality.flags)
        attempts = dict(checked.quality.attempts)
        for alias, same in self.aliases.items():
            if same in translations:
                translations[alias] = translations[same]
                if same in flags:
                    flags[alias] = flags[same]
                if same in attempts:
                    attempts[alias] = attempts[same]
        for task, hit in self.reused.items():
            translations[task] = hit.translation
            if hit.flags:
                flags[task] = tuple(Flag(code, detail) for code, detail in hit.flags)
            if hit.attempt is not None:
                attempts[task] = hit.attempt
        return Checked(translations, Quality(flags, attempts, checked.quality.retried), list(checked.problems))


@dataclass
class MemorySession:
    """Connects one or more runs to a memory; see the module docstring."""

    lookup: Lookup
    store: Store
    counts: MemoryCounts = field(default_factory=MemoryCounts)

    @classmethod
    def of(cls, memory: TranslationMemory) -> MemorySession:
        """A session that reads and writes `memory` directly."""
        return cls(memory.lookup, memory.store)

    def around(self, plan: Plan, engines: Mapping[str, Engine], work: Work) -> Checked:
        """Run `work` on the part of `plan` the memory does not hold, remember what it produced
        (with the flags and attempt quality checking left on it) and return it merged with
        what was remembered."""
        recalled = self.recall(plan, engines)
        checked = work(recalled.todo)
        self.keep(recalled, engines, checked)
        return recalled.merged(checked)

    def recall(self, plan: Plan, engines: Mapping[str, Engine]) -> Recalled:
        """The plan without remembered sentences (and same-key duplicates); pairs and engines left
        without work are dropped too, so no engine is called for nothing."""
        reused: dict[TaskKey, Remembered] = {}
        aliases: dict[TaskKey, TaskKey] = {}
        used: list[bytes] = []
        tasks: Tasks = {}
        for name, pairs in plan.tasks.items():
            engine = engines[name]
            identity = engine.identity()
            if isinstance(engine, PivotEngine):
                used += self._recall_first_hop(engine, pairs)
            left: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
            for (src, tgt), texts in pairs.items():
                keys = {text: identity.key(src, tgt, text) for text in texts}
                found = self.lookup(list(keys.values()))
                remaining: dict[str, tuple[str, ...]] = {}
                first: dict[bytes, str] = {}
                for text, spans in texts.items():
                    key = keys[text]
                    hit = found.get(key)
                    if hit is not None and (hit.source == text or spans_intact(hit.translation, spans)):
                        reused[(name, src, tgt, text)] = hit
                        used.append(key)
                        continue
                    same = first.get(key)
                    if same is not None and texts[same] == spans:
                        aliases[(name, src, tgt, text)] = (name, src, tgt, same)
                        continue
                    first.setdefault(key, text)
                    remaining[text] = spans
                if remaining:
                    left[(src, tgt)] = remaining
            if left:
                tasks[name] = left
        self.counts.reused += len(reused)
        return Recalled(replace(plan, tasks=tasks), reused, aliases, used)

    def _recall_first_hop(self, pivot: PivotEngine, pairs: Mapping[tuple[str, str], Mapping[str, tuple[str, ...]]]) -> list[bytes]:
        """Hand a pivot's first hop the src→via translations the memory holds for its sentences (those
        keeping every protected span), so the first hop's engine makes only the others."""
        identity = pivot.first.engine.identity()
        keys = {(text, src): (identity.key(src, pivot.via, text), spans)
                for (src, _), texts in pairs.items() for text, spans in texts.items()}
        found = self.lookup(list(dict.fromkeys(key for key, _ in keys.values())))
        used = []
        for (text, src), (key, spans) in keys.items():
            hit = found.get(key)
            if hit is not None and (hit.source == text or spans_intact(hit.translation, spans)):
                pivot.first.remember((text, src, pivot.via), hit.translation)
                used.append(key)
        return used

    def keep(self, recalled: Recalled, engines: Mapping[str, Engine], checked: Checked) -> None:
        """Store what the engines wrote for the recalled plan's work (and the src→via translations
        pivots' first hops made, as their engine wrote them), and mark the reused entries used."""
        entries: list[Entry] = []
        hops = {id(e.first): e for e in engines.values() if isinstance(e, PivotEngine)}
        for pivot in hops.values():
            identity = pivot.first.engine.identity()
            for (text, src, via), translation in pivot.first.take_fresh().items():
                entries.append(Entry(identity.key(src, via, text), identity, src, via, text, translation, (), None))
        for name, pairs in recalled.todo.tasks.items():
            identity = engines[name].identity()
            for (src, tgt), texts in pairs.items():
                for text in texts:
                    task = (name, src, tgt, text)
                    translation = checked.translations.get(task)
                    if translation is None:  # the engine failed on it: nothing to remember
                        continue
                    flags = checked.quality.flags.get(task, ())
                    entries.append(Entry(identity.key(src, tgt, text), identity, src, tgt, text, translation,
                                         tuple((f.code, f.detail) for f in flags), checked.quality.attempts.get(task)))
                    self.counts.tokens += len(translation.split())
        self.counts.translated += len(entries)
        if entries or recalled.used:
            self.store(entries, recalled.used)


class Collector:
    """A `store` that keeps entries for someone else to write (a worker hands them to the job's driver)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.used: list[bytes] = []

    def __call__(self, entries: list[Entry], used: list[bytes]) -> None:
        self.entries.extend(entries)
        self.used.extend(used)

    def drain(self) -> tuple[list[Entry], list[bytes]]:
        entries, used = self.entries, self.used
        self.entries, self.used = [], []
        return entries, used


def no_lookup(keys: Sequence[bytes]) -> dict[bytes, Remembered]:
    """The lookup of an empty memory (a job whose memory file does not exist yet)."""
    return {}


def reader(path: str | Path | None) -> TranslationMemory | None:
    """The memory at `path` opened read-only (for workers and read-only sessions); None when there
    is no memory file yet."""
    if path is None or not Path(path).exists():
        return None
    return TranslationMemory(path, readonly=True)


def _discard(entries: list[Entry], used: list[bytes]) -> int:
    return 0


@contextmanager
def memory_session(path: str | Path | None, *, write: bool = True) -> Iterator[MemorySession | None]:
    """A session on the memory file at `path` for the duration of a command; None when `path` is None
    (or, read-only, when there is no memory file yet).

    Writing, the file (and its folder, usually under the output directory) is created only when
    there is something to remember, so a run that fails early leaves nothing behind.  Read-only
    (`write=False`: export and review) it looks sentences up and stores nothing."""
    if path is None:
        yield None
        return
    if not write:
        memory = reader(path)
        try:
            yield MemorySession(memory.lookup, _discard) if memory is not None else None
        finally:
            if memory is not None:
                memory.close()
        return
    lazy = _LazyMemory(Path(path))
    try:
        yield MemorySession(lazy.lookup, lazy.store)
    finally:
        lazy.close()


class _LazyMemory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.memory = TranslationMemory(path) if path.exists() else None

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, Remembered]:
        return self.memory.lookup(keys) if self.memory is not None else {}

    def store(self, entries: list[Entry], used: list[bytes]) -> int:
        if self.memory is None:
            if not entries:
                return 0
            self.memory = TranslationMemory(self.path)
        return self.memory.store(entries, used)

    def close(self) -> None:
        if self.memory is not None:
            self.memory.close()
