"""A run's connection to the translation memory: look sentences up before engines run, store after.

The store (store.py) is the SQLite file; a session is what one command or one worker
holds while it translates: it may read and write the file directly, read it and hand
new entries to a job's driver (Collector), or only read (export, review).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..pipeline.segment import spans_intact
from .store import Entry, Remembered, TranslationMemory, engine_identity

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..pipeline.plan import Plan, TaskKey
    from ..pipeline.run import RunResult


Lookup = Callable[[Sequence[bytes]], dict[bytes, Remembered]]
Store = Callable[[list[Entry], list[bytes]], Any]


@dataclass
class MemoryCounts:
    reused: int = 0  # sentences (per pair) taken from the memory
    translated: int = 0  # sentences (per pair) an engine translated and the memory now keeps
    tokens: int = 0  # whitespace-separated tokens in those new translations


@dataclass
class MemorySession:
    """Connects one or more runs to a memory: `recall` before engines run, `keep` after.

    `recall` drops every remembered sentence from the plan's tasks (and, of sentences
    that normalize alike and carry the same protected spans, keeps only the first), so
    engines only see what is new; `keep` stores what the engines wrote and puts the
    remembered translations into the run's results, where assembly expects them.
    `store` may write at once (a single command) or collect entries for a job's driver.
    """

    lookup: Lookup
    store: Store
    counts: MemoryCounts = field(default_factory=MemoryCounts)
    _reused: dict[TaskKey, Remembered] = field(default_factory=dict, repr=False)
    _aliases: dict[TaskKey, TaskKey] = field(default_factory=dict, repr=False)
    _used: list[bytes] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, memory: TranslationMemory) -> MemorySession:
        """A session that reads and writes `memory` directly."""
        return cls(memory.lookup, memory.store)

    def recall(self, plan: Plan, engines: dict[str, Engine]) -> None:
        """Drop remembered sentences (and same-key duplicates) from `plan.tasks`; pairs and engines
        left without work are dropped too, so no engine is called for nothing."""
        self._reused, self._aliases, self._used = {}, {}, []
        for name in list(plan.tasks):
            pairs = plan.tasks[name]
            identity = engine_identity(engines[name])
            for (src, tgt), texts in list(pairs.items()):
                keys = {text: identity.key(src, tgt, text) for text in texts}
                found = self.lookup(list(keys.values()))
                remaining: dict[str, tuple[str, ...]] = {}
                first: dict[bytes, str] = {}
                for text, spans in texts.items():
                    key = keys[text]
                    hit = found.get(key)
                    if hit is not None and (hit.source == text or spans_intact(hit.translation, spans)):
                        self._reused[(name, src, tgt, text)] = hit
                        self._used.append(key)
                        continue
                    same = first.get(key)
                    if same is not None and texts[same] == spans:
                        self._aliases[(name, src, tgt, text)] = (name, src, tgt, same)
                        continue
                    first.setdefault(key, text)
                    remaining[text] = spans
                if remaining:
                    pairs[(src, tgt)] = remaining
                else:
                    del pairs[(src, tgt)]
            if not pairs:
                del plan.tasks[name]
        self.counts.reused += len(self._reused)

    def keep(self, plan: Plan, engines: dict[str, Engine], run: RunResult, quality: Any = None) -> None:
        """Remember what the engines wrote (with the flags and attempt quality checking left on it),
        and put remembered translations, and their flags and attempts, where assembly looks for them.

        `quality` is qa.Quality (flags and attempts per task) when the run checked its output."""
        flags: dict[Any, tuple[Any, ...]] = getattr(quality, "flags", {})
        attempts: dict[Any, str] = getattr(quality, "attempts", {})
        entries: list[Entry] = []
        for name, pairs in plan.tasks.items():
            identity = engine_identity(engines[name])
            for (src, tgt), texts in pairs.items():
                for text in texts:
                    task = (name, src, tgt, text)
                    translation = run.translations.get(task)
                    if translation is None:  # the engine failed on it: nothing to remember
                        continue
                    entries.append(Entry(identity.key(src, tgt, text), identity, src, tgt, text, translation,
                                         tuple((f.code, f.detail) for f in flags.get(task, ())), attempts.get(task)))
                    self.counts.tokens += len(translation.split())
        for alias, same in self._aliases.items():
            if same in run.translations:
                run.translations[alias] = run.translations[same]
                if same in flags:
                    flags[alias] = flags[same]
                if same in attempts:
                    attempts[alias] = attempts[same]
        if self._reused and quality is not None:
            from ..pipeline.quality import Flag

            for task, hit in self._reused.items():
                if hit.flags:
                    flags[task] = tuple(Flag(code, detail) for code, detail in hit.flags)
                if hit.attempt is not None:
                    attempts[task] = hit.attempt
        run.translations.update((task, hit.translation) for task, hit in self._reused.items())
        self.counts.translated += len(entries)
        if entries or self._used:
            self.store(entries, self._used)
        self._reused, self._aliases, self._used = {}, {}, []


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


@contextmanager
def memory_session(path: str | Path | None) -> Iterator[MemorySession | None]:
    """A session on the memory file at `path` for the duration of a command; None when `path` is None.

    The file (and its folder, usually under the output directory) is created only when
    there is something to remember, so a run that fails early leaves nothing behind."""
    if path is None:
        yield None
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
