"""The translation memory: every sentence an engine translated, kept in SQLite and looked up first.

An archive is re-translated whenever one article changes, and a batch job may be killed
at any moment; both are cheap only if finished work is never done twice.  So each
(sentence, language pair, engine configuration) an engine translates is stored, and
every run looks its sentences up before any engine sees them.

The key is everything that decides an engine's output: the engine's identity
(engines/identity.py: engine, model id, revision, runtime, quantization, decoding
options), source and target language, and the source sentence
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

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engines.identity import IDENTITY_FIELDS, EngineIdentity
from ..errors import MultitransError, UserError
from ..pipeline.quality import HUMAN

SCHEMA_VERSION = 1
TRANSACTION_ROWS = 500  # rows per commit: small enough that a kill loses little, large enough to be fast
_LOOKUP_CHUNK = 500  # keys per SELECT (SQLite's default limit on host parameters is 999 in old builds)

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


class MemoryFileError(UserError):
    """The memory file cannot be opened or is not a multitrans memory; the message is for the user."""


class MemoryWriteFailed(MultitransError):
    """The disk failed under the memory (full, an I/O error): a failure of the run, not the user's."""


# SQLite's primary result codes (the low byte of `sqlite_errorcode`) and the messages it gives them,
# for errors raised without a code; they say whose problem a failure is.
_NOT_WRITABLE = {3: "access permission denied", 8: "attempt to write a readonly database",
                 14: "unable to open database file"}
_DISK_FAILED = {10: "disk I/O error", 13: "database or disk is full"}


def _is(exc: sqlite3.Error, kinds: dict[int, str]) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in kinds
    return any(message in str(exc) for message in kinds.values())


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> MultitransError:
    """Why the memory could not be opened, as the user's problem (exit 2) or the run's (exit 3)."""
    if _is(exc, _DISK_FAILED):
        return MemoryWriteFailed(f"cannot open translation memory {path}: {exc} (is the disk full?); nothing was "
                                 "translated")
    if _is(exc, _NOT_WRITABLE):
        return MemoryFileError(f"the translation memory {path} cannot be written ({exc}); make the file and its "
                               "folder writable, pass --memory FILE somewhere writable, or run with --no-memory")
    return MemoryFileError(f"cannot use translation memory {path}: {exc}")


def _write_error(path: Path, exc: sqlite3.OperationalError) -> MultitransError:
    """A write to the memory that failed after it opened: the translations of the run are not stored."""
    if _is(exc, _NOT_WRITABLE):
        return MemoryFileError(f"the translation memory {path} cannot be written ({exc}); make it writable, "
                               "or run with --no-memory")
    return MemoryWriteFailed(f"cannot write translation memory {path}: {exc}")


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
            if not readonly:
                self._check_writable()
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from exc
        except OSError as exc:  # the folder for a new memory cannot be made
            raise MemoryFileError(f"cannot create translation memory {self.path}: {exc.strerror or exc}; "
                                  "pass --memory FILE somewhere writable, or --no-memory") from exc

    def _check_writable(self) -> None:
        """Fail now, before any engine runs, if the file opened but cannot be written (a read-only
        file or folder): SQLite only says so at the first write, after the translation work."""
        self._db.execute("SAVEPOINT probe")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            self._db.execute(f"PRAGMA user_version={int(version)}")
        finally:
            self._db.execute("ROLLBACK TO probe")
            self._db.execute("RELEASE probe")

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
            flags = json.dumps(e.flags, ensure_ascii=False, separators=(",", ":"))
            batch.append((e.attempt == HUMAN, (e.key, *e.identity.as_dict().values(), e.src, e.tgt, e.source,
                                               e.translation, flags, e.attempt, now, now)))
            if len(batch) >= TRANSACTION_ROWS:
                flush()
        try:
            if batch:
                flush()
            keys = list(dict.fromkeys(used))
            for start in range(0, len(keys), TRANSACTION_ROWS):
                chunk = keys[start : start + TRANSACTION_ROWS]
                with self._db:
                    self._db.execute(f"UPDATE segments SET used=? WHERE key IN ({','.join('?' * len(chunk))})",
                                     [now, *chunk])
        except sqlite3.OperationalError as exc:
            raise _write_error(self.path, exc) from exc
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
        columns = (*IDENTITY_FIELDS, "src", "tgt", "source", "translation", "flags", "attempt", "created", "used")
        sql = f"SELECT {', '.join(columns)} FROM segments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY src, tgt, source, {', '.join(IDENTITY_FIELDS)}"
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
            raise UserError("say what to prune: --unused-days N, --model ID or --engine NAME")
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
