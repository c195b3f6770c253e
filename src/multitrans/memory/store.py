"""The translation memory: every sentence an engine translated, kept in SQLite and looked up first.

An archive is re-translated whenever one article changes, and a batch job may be killed
at any moment; both are cheap only if finished work is never done twice.  So each
(sentence, language pair, engine configuration) an engine translates is stored, and
every run looks its sentences up before any engine sees them.

The key is everything that decides an engine's output: engine, model id, revision (the
snapshot commit when the model comes from the Hugging Face cache), runtime,
quantization, decoding options, source and target language, and the source sentence
normalized (Unicode NFC, runs of whitespace as one space), so that a hard-wrapped
sentence and the same sentence on one line share one entry.  A hit is used only when
every protected span of the sentence is in the stored translation, so normalization can
never carry a wrong number or URL into a document.

A key keeps its first machine translation (a rerun must not change published text), but
a translator's edit (attempt `human_edit`, stored by `multitrans import`) replaces whatever
the key held, and no machine translation replaces an edit.

SQLite in WAL mode lets worker processes read while the one writer (the job's driver)
commits in small transactions: a killed job loses at most the entries of the
transaction in flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..pipeline.quality import HUMAN
from ..pipeline.segment import spans_intact

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..pipeline.plan import Plan, TaskKey
    from ..pipeline.run import RunResult

SCHEMA_VERSION = 1
TRANSACTION_ROWS = 500  # rows per commit: small enough that a kill loses little, large enough to be fast
_LOOKUP_CHUNK = 500  # keys per SELECT (SQLite's default limit on host parameters is 999 in old builds)
RULE_BASED = frozenset({"apertium"})  # engines without decoding options
_NATIVE_RUNTIME = {"marian": "transformers", "nllb": "transformers"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    key BLOB PRIMARY KEY,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    revision TEXT NOT NULL,
    runtime TEXT NOT NULL,
    quantization TEXT NOT NULL,
    decoding TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    source TEXT NOT NULL,
    translation TEXT NOT NULL,
    flags TEXT NOT NULL,
    attempt TEXT,
    created REAL NOT NULL,
    used REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS segments_pair ON segments (src, tgt);
CREATE INDEX IF NOT EXISTS segments_used ON segments (used);
"""


class MemoryFileError(ValueError):
    """The memory file cannot be opened or is not a multitrans memory; the message is for the user."""


@dataclass(frozen=True)
class EngineIdentity:
    """Everything about an engine that changes what it writes for a given sentence."""

    engine: str
    model: str
    revision: str = ""
    runtime: str = ""
    quantization: str = ""
    decoding: str = "{}"  # canonical JSON of the decoding options

    def key(self, src: str, tgt: str, text: str) -> bytes:
        """The memory key of `text` translated src→tgt by this engine (a SHA-256 digest)."""
        fields = (self.engine, self.model, self.revision, self.runtime, self.quantization, self.decoding,
                  src, tgt, normalize(text))
        return hashlib.sha256("\x1f".join(fields).encode("utf-8")).digest()


@dataclass(frozen=True)
class Entry:
    """One remembered translation, with what quality checking found (so a reuse reports the same flags)."""

    key: bytes
    identity: EngineIdentity
    src: str
    tgt: str
    source: str
    translation: str
    flags: tuple[tuple[str, str], ...] = ()  # (code, detail) of the flags that remained after repair
    attempt: str | None = None  # which attempt of the repair produced the translation


@dataclass(frozen=True)
class Remembered:
    source: str  # the sentence as first stored (before normalization)
    translation: str
    flags: tuple[tuple[str, str], ...] = ()
    attempt: str | None = None


def normalize(text: str) -> str:
    """The form of a sentence the memory is keyed by: NFC, whitespace runs as one space, no outer space."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def engine_identity(engine: Engine) -> EngineIdentity:
    """Read an engine's identity from the engine itself.

    Engines may say `runtime` and `quantization` as attributes (a CTranslate2 engine
    does); otherwise the runtime is the engine's own (transformers for Marian and NLLB)
    and the quantization is the loaded model's dtype.  A snapshot from the Hugging Face
    cache names its commit, which pins `revision: main` to what was actually loaded.
    """
    spec = engine.spec
    runtime = getattr(engine, "runtime", None) or _NATIVE_RUNTIME.get(spec.engine, spec.engine)
    quantization = getattr(engine, "quantization", None)
    if quantization is None:
        dtype = getattr(getattr(engine, "model", None), "dtype", None)
        quantization = str(dtype).removeprefix("torch.") if dtype is not None else ""
    revision = spec.revision or ""
    model_dir = getattr(engine, "model_dir", None)
    if isinstance(model_dir, Path) and model_dir.parent.name == "snapshots":
        revision = model_dir.name
    decoding: dict[str, Any] = {}
    if spec.engine not in RULE_BASED:
        decoding = {"beam": engine.options.beam}
        decoding.update(getattr(engine, "decoding_options", None) or {})
    return EngineIdentity(spec.engine, engine.model_id, revision, str(runtime), str(quantization),
                          json.dumps(decoding, sort_keys=True, separators=(",", ":")))


class TranslationMemory:
    """An SQLite translation memory file (WAL mode; safe for one writer and many readers)."""

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=timeout,
                                           check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a killed process
                self._init_schema()
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise MemoryFileError(f"cannot use translation memory {self.path}: {exc}") from exc

    def _init_schema(self) -> None:
        with self._db:
            self._db.executescript(_SCHEMA)
            if self._db.execute("PRAGMA user_version").fetchone()[0] == 0:
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _check_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise MemoryFileError(
                f"{self.path} is not a multitrans translation memory of version {SCHEMA_VERSION} (found {version})"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TranslationMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, Remembered]:
        """The remembered translations among `keys`."""
        found: dict[bytes, Remembered] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start : start + _LOOKUP_CHUNK]
            rows = self._db.execute(
                f"SELECT key, source, translation, flags, attempt FROM segments WHERE key IN "
                f"({','.join('?' * len(chunk))})", chunk
            )
            found.update((key, Remembered(source, translation, tuple(tuple(f) for f in json.loads(flags)), attempt))
                         for key, source, translation, flags, attempt in rows)
        return found

    def store(self, entries: Iterable[Entry], used: Sequence[bytes] = ()) -> int:
        """Add new entries and mark `used` keys as used now.  An existing key keeps its first
        machine translation; an entry whose attempt is `human_edit` replaces what the key held.

        Commits every TRANSACTION_ROWS rows. Returns the number of entries added or replaced."""
        now = time.time()
        added = 0
        batch: list[tuple[bool, tuple]] = []  # (is a translator's edit, row)

        def flush() -> None:
            nonlocal added
            with self._db:
                for edit, verb in ((False, "INSERT OR IGNORE"), (True, "INSERT OR REPLACE")):
                    rows = [row for is_edit, row in batch if is_edit == edit]
                    if rows:
                        cursor = self._db.executemany(f"{verb} INTO segments VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                        added += max(cursor.rowcount, 0)
            batch.clear()

        for e in entries:
            i = e.identity
            batch.append((e.attempt == HUMAN, (e.key, i.engine, i.model, i.revision, i.runtime, i.quantization, i.decoding,
                          e.src, e.tgt, e.source, e.translation,
                          json.dumps(e.flags, ensure_ascii=False, separators=(",", ":")), e.attempt, now, now)))
            if len(batch) >= TRANSACTION_ROWS:
                flush()
        if batch:
            flush()
        keys = list(dict.fromkeys(used))
        for start in range(0, len(keys), TRANSACTION_ROWS):
            chunk = keys[start : start + TRANSACTION_ROWS]
            with self._db:
                self._db.execute(f"UPDATE segments SET used=? WHERE key IN ({','.join('?' * len(chunk))})",
                                 [now, *chunk])
        return added

    def entries(self, *, src: str | None = None, tgt: str | None = None) -> Iterator[dict[str, Any]]:
        """Every entry (optionally of one pair) in a stable order, as plain dicts."""
        where, args = [], []
        if src:
            where.append("src = ?")
            args.append(src)
        if tgt:
            where.append("tgt = ?")
            args.append(tgt)
        sql = ("SELECT engine, model, revision, runtime, quantization, decoding, src, tgt, source, translation, "
               "flags, attempt, created, used FROM segments")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY src, tgt, source, engine, model, revision, runtime, quantization, decoding"
        columns = ("engine", "model", "revision", "runtime", "quantization", "decoding", "src", "tgt", "source",
                   "translation", "flags", "attempt", "created", "used")
        for row in self._db.execute(sql, args):
            entry = dict(zip(columns, row))
            entry["flags"] = [{"code": code, "detail": detail} for code, detail in json.loads(entry["flags"])]
            yield entry

    def stats(self) -> dict[str, Any]:
        """Entry counts per engine configuration and language pair, and the file's size."""
        rows = self._db.execute(
            "SELECT engine, model, revision, runtime, quantization, decoding, src, tgt, COUNT(*), "
            "MIN(created), MAX(used) FROM segments GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
        ).fetchall()
        groups = [
            {"engine": r[0], "model": r[1], "revision": r[2], "runtime": r[3], "quantization": r[4],
             "decoding": json.loads(r[5]), "src": r[6], "tgt": r[7], "entries": r[8],
             "oldest": _iso(r[9]), "last_used": _iso(r[10])}
            for r in rows
        ]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "entries": sum(g["entries"] for g in groups), "bytes": size,
                "groups": groups}

    def prune(self, *, unused_days: float | None = None, model: str | None = None,
              engine: str | None = None, dry_run: bool = False) -> int:
        """Delete entries not used for `unused_days`, and/or those of one model or engine.

        Returns how many entries were (or, with dry_run, would be) deleted."""
        where, args = [], []
        if unused_days is not None:
            where.append("used < ?")
            args.append(time.time() - unused_days * 86400)
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if engine is not None:
            where.append("engine = ?")
            args.append(engine)
        if not where:
            raise ValueError("say what to prune: --unused-days N, --model ID or --engine NAME")
        condition = " AND ".join(where)
        count = self._db.execute(f"SELECT COUNT(*) FROM segments WHERE {condition}", args).fetchone()[0]
        if not dry_run and count:
            with self._db:
                self._db.execute(f"DELETE FROM segments WHERE {condition}", args)
            self._db.execute("VACUUM")
        return count


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


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
