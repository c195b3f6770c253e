"""Archives: translate every article under a folder, resumably, redoing only what is stale.

A batch job is driven from here.  The driver discovers the articles, reads each one and
asks the manifest whether its outputs are current (skipped) or stale; stale documents
are cut into groups and handed to an executor's workers (this process, local worker
processes or Ray actors), which translate each group in one plan with the translation
memory consulted first.  The driver alone writes: memory entries first, then the output
files (only those whose bytes differ, so a finished document is never rewritten), then
the document's manifest line.  Whatever moment a job is killed at, a rerun finds every
finished sentence in the memory and every finished document current in the manifest,
and ends with the same files as a run that was never interrupted.
"""

from __future__ import annotations

import fcntl
import math
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..engines.base import EngineOptions
from ..engines.batching import cpu_count
from ..errors import UserError, shorten
from .workers import (
    DocumentWorker,
    Executor,
    GroupResult,
    InProcessExecutor,
    JobSpec,
    LocalExecutor,
    RayExecutor,
    Source,
    plan_workers,
    visible_gpus,
)
from ..languages import normalize as normalize_language
from ..languages import parse_list
from .manifest import ALIGNED, Expected, Manifest, Stale, document_entry, sha256_bytes, sha256_file
from ..memory.session import no_lookup
from ..memory.store import TranslationMemory
from ..inputs import DEFAULT_MAX_BYTES, InputError, decode, not_regular, read_regular
from ..output import OutputCollision, OutputError, fill_layout, output_path, plan_outputs, state_dir, write_atomic
from ..config.registry import Registry, load_registry

DEFAULT_GLOBS = ("*.txt", "*.md")
BATCH_LAYOUT = "{lang}/{path}"
BATCH_ALIGNED_LAYOUT = "aligned/{path}.jsonl"
MEMORY_NAME = "memory.sqlite"
# Source characters × target languages per group.  Apertium starts a process per call
# (~0.6 s), so groups must be large enough to carry many documents per call; a killed
# job loses at most the groups in flight.
GROUP_BUDGET = 200_000


class BatchError(UserError):
    """The job cannot start (bad archive, colliding outputs, another job running); one line for the user."""


def default_memory_path(out_dir: str | Path) -> Path:
    """Where a job keeps its translation memory unless told otherwise (refused when OUT/.multitrans
    is a link out of OUT)."""
    return state_dir(out_dir) / MEMORY_NAME


# ---------------------------------------------------------------------------------------------
# Discovery


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over relative POSIX paths: `*` and `?` stay within a folder, `**/` spans folders;
    a pattern without `/` matches at any depth (like .gitignore)."""
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[^" + re.escape(body[1:]) + "]" if body.startswith("!") else "[" + re.escape(body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def check_globs(globs: Sequence[str]) -> None:
    """Globs match paths relative to the archive: one that is absolute or climbs out of it with
    `..` could never match, and a job that silently finds nothing is refused instead."""
    for pattern in globs:
        parts = pattern.replace("\\", "/").split("/")
        if pattern.startswith(("/", "~")) or (len(pattern) > 1 and pattern[1] == ":") or ".." in parts:
            raise BatchError(f"--glob '{shorten(pattern)}' reaches outside the archive; globs match paths "
                             "relative to the archive folder, e.g. --glob '*.txt' or --glob 'news/**/*.md'")


def discover(archive: Path, globs: Sequence[str] = DEFAULT_GLOBS,
             exclude: Sequence[Path] = ()) -> tuple[list[str], list[str]]:
    """The archive's articles as sorted relative POSIX paths, and warnings about what was passed over.

    Hidden files and folders are skipped, and so is anything under `exclude` (the output
    directory, when it lies inside the archive); symbolic links are followed only when
    they stay inside the archive.
    """
    check_globs(globs)
    root = archive.resolve()
    if not root.is_dir():
        raise BatchError(f"archive {archive} is not a directory")
    patterns = [glob_regex(g) for g in globs]
    excluded = {p.resolve() for p in exclude}
    found, warnings = [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        kept = []
        for d in sorted(dirs):
            path = here / d
            if d.startswith(".") or path.resolve() in excluded:
                continue
            if path.is_symlink():
                warnings.append(f"{path.relative_to(root).as_posix()}: a linked folder; not followed")
                continue
            kept.append(d)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = here / name
            relative = path.relative_to(root).as_posix()
            if not any(p.match(relative) for p in patterns):
                continue
            if path.is_symlink():
                target = path.resolve()
                if root not in target.parents or not target.exists():
                    warnings.append(f"{relative}: a link that leads outside the archive; skipped")
                    continue
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                warnings.append(f"{relative}: cannot read: {exc.strerror or exc}; skipped")
                continue
            if not stat.S_ISREG(mode):
                warnings.append(f"{not_regular(relative, mode)}; skipped")
                continue
            found.append(relative)
    return sorted(found), warnings


# ---------------------------------------------------------------------------------------------
# The job


@dataclass
class BatchProgress:
    documents_done: int  # processed in this run (done or failed)
    documents_total: int  # to process in this run
    skipped: int
    failed: int
    translated: int
    reused: int
    tokens: int
    elapsed: float
    eta: float | None  # seconds, None until something has finished

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class BatchSummary:
    documents: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    with_problems: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"problem", "documents"}
    notes: list[str] = field(default_factory=list)  # per document: text left in the source language by design
    segments_translated: int = 0
    segments_reused: int = 0
    tokens: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    seconds: float = 0.0
    executor: str = "local"
    workers: int = 1
    warnings: list[str] = field(default_factory=list)
    orphaned: list[dict[str, str]] = field(default_factory=list)  # {"source", "output"}: left on disk
    pruned: list[dict[str, str]] = field(default_factory=list)  # {"source", "output"}: removed by --prune

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class _Job:
    archive: Path
    out: Path
    targets: tuple[str, ...]
    registry: Registry
    paths: list[str]
    outputs: dict[str, dict[str, str]]  # document → (target or ALIGNED) → path under out
    options: dict[str, Any]  # what the manifest compares besides sources and routes
    expected: Expected  # what each pair's route would be now, for the manifest to compare
    warnings: list[str]
    rejected: dict[str, str]  # document → why it has no valid output path (it fails alone)


def _job(archive: str | Path, targets: Sequence[str], out: str | Path, layout: str, globs: Sequence[str],
         registry: Registry | str | Path | None, options: EngineOptions, source_lang: str | None,
         fmt: str | None) -> _Job:
    codes = tuple(parse_list(",".join(targets))) if targets else ()
    if not codes:
        raise BatchError("no target language given; pass one or more codes, e.g. --to nn,da,sv")
    archive, out = Path(archive), Path(out)
    if not isinstance(registry, Registry):
        registry = load_registry(registry)
    paths, warnings = discover(archive, globs or DEFAULT_GLOBS, exclude=[out])
    root = out.resolve()
    state_dir(out)
    paths, rejected = _placeable(paths, out, layout, codes)
    try:
        planned = plan_outputs(out, layout, [(p, p) for p in paths], codes, BATCH_ALIGNED_LAYOUT, (BATCH_LAYOUT,))
    except OutputCollision as exc:
        raise BatchError(str(exc)) from exc
    outputs = {path: {ALIGNED if key is None else key: p.relative_to(root).as_posix() for key, p in mapping}
               for path, mapping in zip(paths, planned)}
    # The beam is not among them: it is part of each engine's identity, which the routes record.
    manifest_options = {"from": normalize_language(source_lang) if source_lang else None, "format": fmt}
    return _Job(archive, out, codes, registry, paths, outputs, manifest_options, Expected(registry, options), warnings,
                rejected)


def _placeable(paths: list[str], out: Path, layout: str, codes: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The documents whose every output has a valid place, and why each other has none.

    A layout that is wrong for every document stops the job; a name that cannot be written
    (a control character in it, an output path that is a link) fails that document alone, as
    the README promises, and the rest go on.  A link is refused even when it stays inside
    --out: writing through it would overwrite the file it points to, another document's."""
    output_path(out, layout, "a.txt", codes[0])  # raises for the layout itself: that is every document's problem
    kept, rejected = [], {}
    for path in paths:
        try:
            for key, chosen in [*((code, layout) for code in codes), ("", BATCH_ALIGNED_LAYOUT)]:
                output_path(out, chosen, path, key)
                _refuse_link(out, fill_layout(chosen, path, key))
        except OutputError as exc:
            rejected[path] = str(exc)
            continue
        kept.append(path)
    return kept, rejected


def _refuse_link(out: Path, relative: str) -> None:
    plain = out / relative
    if plain.is_symlink():
        raise OutputError(f"the output {relative!r} is a link (to {os.readlink(plain)}); "
                          "multitrans writes only regular files: remove the link")


def printable(path: str) -> str:
    """A document's path for a one-line message: control characters (a newline in a file name)
    shown escaped, so that one document is one line of the summary."""
    return path if path.isprintable() else ascii(path)[1:-1]


def _read(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes (one past the input limit at most, for decode to refuse), or why not;
    a named pipe or device put in an article's place is refused, not waited on."""
    try:
        return read_regular(path, DEFAULT_MAX_BYTES + 1), None
    except InputError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"


def _decode(data: bytes, name: str) -> tuple[str | None, str | None]:
    """The same vetting as `translate` (inputs.py): a byte-order mark is read, and an empty,
    binary, oversized or non-UTF-8 file is one line in the summary naming what was found."""
    try:
        return decode(data, name), None
    except InputError as exc:
        return None, str(exc)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` atomically unless the file already holds exactly it; True when written."""
    try:
        if path.is_file() and path.read_bytes() == data:  # is_file: a named pipe there would block the read
            return False
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        pass
    write_atomic(path, data.decode("utf-8"))
    return True


class _Lock:
    """One job at a time per output directory: two writers would interleave the manifest."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(state_dir / "lock", "w")  # noqa: SIM115 - held for the job
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._file.close()
            raise BatchError(f"another multitrans batch job is writing to {state_dir.parent}; wait for it to finish") from exc

    def release(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def _remove_torn_writes(job: _Job) -> None:
    """Delete the temporary files a killed job left while writing outputs (output.write_atomic
    writes `.NAME.RANDOM.tmp` next to NAME, then renames); the output itself is never torn."""
    names_by_folder: dict[Path, set[str]] = {}
    for outputs in job.outputs.values():
        for relative in outputs.values():
            path = job.out / relative
            names_by_folder.setdefault(path.parent, set()).add(path.name)
    for folder, names in names_by_folder.items():
        try:
            entries = list(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name.endswith(".tmp") and name[1:].rsplit(".", 2)[0] in names:
                entry.unlink(missing_ok=True)


def _groups(sources: list[Source], targets: int, workers: int) -> list[list[Source]]:
    """Consecutive documents, about GROUP_BUDGET characters × targets each.

    A job too small to give every worker a full group is cut into smaller ones, but
    not below a quarter of the budget: starting a worker process (and its models) costs
    seconds, more than a small job gains from it."""
    costs = [max(1, len(s.text)) * targets for s in sources]
    budget = min(GROUP_BUDGET, max(GROUP_BUDGET // 4, math.ceil(sum(costs) / max(1, workers))))
    groups: list[list[Source]] = []
    size = 0
    for source, cost in zip(sources, costs):
        if not groups or (size + cost > budget and groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(source)
        size += cost
    return groups


def run_batch(
    archive: str | Path,
    targets: Sequence[str],
    out: str | Path,
    *,
    layout: str = BATCH_LAYOUT,
    globs: Sequence[str] = DEFAULT_GLOBS,
    memory: str | Path | None = None,
    use_memory: bool = True,
    registry: Registry | str | Path | None = None,
    options: EngineOptions | None = None,
    source_lang: str | None = None,
    fmt: str | None = None,
    executor: str = "local",
    address: str | None = None,
    workers: int | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_problem: Callable[[str], None] | None = None,
    prune: bool = False,
    pool: Any = None,
    detector: Any = None,
) -> BatchSummary:
    """Translate every stale article of `archive` into `targets` under `out`; see the module doc.

    `registry` is a loaded registry or the path of a models.yaml (default: the built-in
    one).  `pool` and `detector` (tests) run the job in this process with those engines
    and that detector.  `on_problem` hears about each failed document as it happens.
    Outputs of deleted sources are listed in the summary (`orphaned`), and with `prune`
    removed (`pruned`): only files the manifest records, still holding what was written.
    """
    started = time.perf_counter()
    options = options or EngineOptions()
    job = _job(archive, targets, out, layout, globs, registry, options, source_lang, fmt)
    if executor not in ("local", "ray"):
        raise BatchError(f"unknown --executor '{shorten(executor)}'; use local or ray")
    summary = BatchSummary(documents=len(job.paths) + len(job.rejected), executor=executor, warnings=list(job.warnings))
    state = state_dir(job.out)
    lock = _Lock(state)
    manifest: Manifest | None = None
    tm: TranslationMemory | None = None
    runner: Executor | None = None
    aborted = False
    try:
        _remove_torn_writes(job)
        manifest = Manifest(state)
        todo: list[Source] = []
        summary.failed.extend({"document": path, "error": error} for path, error in job.rejected.items())
        for path in job.paths:
            data, error = _read(job.archive / path)
            if data is None:
                summary.failed.append({"document": path, "error": error or "cannot read"})
                continue
            sha = sha256_bytes(data)
            if not manifest.stale_outputs(path, sha, job.options, job.outputs[path], job.out, job.expected):
                summary.skipped += 1
                continue
            text, error = _decode(data, str(path))
            if text is None:
                summary.failed.append({"document": path, "error": error or "cannot decode"})
                continue
            todo.append(Source(path, text, sha))
        for failure in summary.failed:
            if on_problem:
                on_problem(f"{printable(failure['document'])}: {failure['error']}")
        if use_memory:
            tm = TranslationMemory(memory or default_memory_path(job.out))
        spec = JobSpec(job.targets, job.registry, options, source_lang, fmt)
        cores, gpus = cpu_count(), visible_gpus(options.device)
        count, threads = plan_workers(cores, gpus, workers)
        groups = _groups(todo, len(job.targets), count)
        memory_path = str(tm.path) if tm is not None else None
        if pool is not None or (executor == "local" and min(count, len(groups)) <= 1):
            worker = DocumentWorker(spec, tm.lookup if tm is not None else no_lookup, pool=pool, detector=detector)
            runner = InProcessExecutor(worker)
        elif executor == "ray":
            runner = RayExecutor(spec, memory_path, address, workers)
        else:
            runner = LocalExecutor(spec, memory_path, min(count, len(groups)), threads, gpus)
        summary.workers = runner.workers
        problem_documents: Counter[str] = Counter()
        sizes = {s.path: len(s.text) for s in todo}
        total_chars = sum(sizes.values()) or 1
        chars_done = processed = 0
        for result in runner.map(groups):
            _apply(result, job, manifest, tm, summary, problem_documents, on_problem)
            processed += len(result.outcomes)
            chars_done += sum(sizes[o.path] for o in result.outcomes)
            if on_progress:
                elapsed = time.perf_counter() - started
                rate = chars_done / elapsed if elapsed > 0 else 0.0
                eta = (total_chars - chars_done) / rate if rate > 0 else None
                on_progress(BatchProgress(processed, len(todo), summary.skipped, len(summary.failed),
                                          summary.segments_translated, summary.segments_reused, summary.tokens,
                                          elapsed, eta))
        summary.problems = [{"problem": p, "documents": n} for p, n in problem_documents.most_common()]
        found = orphans(manifest, job)
        if prune:
            removed = prune_orphans(manifest, job, found)
            summary.pruned = [asdict(o) for o in removed]
            found = [o for o in found if o not in removed]
        summary.orphaned = [asdict(o) for o in found]
        manifest.save()
    except BaseException:
        aborted = True  # Ctrl-C included: the journal keeps every finished document for a rerun
        raise
    finally:
        if runner is not None:
            runner.close(abort=aborted)
        if manifest is not None:
            manifest.close()
        if tm is not None:
            tm.close()
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


def _apply(result: GroupResult, job: _Job, manifest: Manifest, tm: TranslationMemory | None,
           summary: BatchSummary, problem_documents: Counter[str], on_problem: Callable[[str], None] | None) -> None:
    """Memory first, then files, then the manifest: each step only records what the previous made durable."""
    if tm is not None:
        tm.store(result.entries, result.used)
    summary.segments_translated += result.translated
    summary.segments_reused += result.reused
    summary.tokens += result.tokens
    for outcome in result.outcomes:
        if outcome.error is not None:
            summary.failed.append({"document": outcome.path, "error": outcome.error})
            if on_problem:
                on_problem(f"{printable(outcome.path)}: {outcome.error}")
            continue
        written: dict[str, tuple[str, str]] = {}
        for key, relative in job.outputs[outcome.path].items():
            data = outcome.texts[key].encode("utf-8")
            if write_if_changed(job.out / relative, data):
                summary.files_written += 1
            else:
                summary.files_unchanged += 1
            written[key] = (relative, sha256_bytes(data))
        manifest.record(outcome.path, document_entry(outcome.sha256, job.options, written, outcome.routes,
                                                     job.expected))
        summary.done += 1
        summary.notes.extend(outcome.notes)
        if outcome.problems:
            summary.with_problems += 1
            problem_documents.update(outcome.problems)


# ---------------------------------------------------------------------------------------------
# --check


@dataclass(frozen=True)
class Orphan:
    """An output the manifest says this job wrote for a source the archive no longer holds."""

    source: str
    output: str


@dataclass
class CheckResult:
    documents: int
    outputs: int
    stale: list[Stale]
    warnings: list[str]
    orphaned: list[Orphan] = field(default_factory=list)

    @property
    def stale_documents(self) -> list[str]:
        return list(dict.fromkeys(s.source for s in self.stale))

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "outputs": self.outputs,
                "stale": [asdict(s) for s in self.stale], "stale_documents": self.stale_documents,
                "orphaned": [asdict(o) for o in self.orphaned], "warnings": self.warnings}


def check_batch(
    archive: str | Path,
    targets: Sequence[str],
    out: str | Path,
    *,
    layout: str = BATCH_LAYOUT,
    globs: Sequence[str] = DEFAULT_GLOBS,
    registry: Registry | str | Path | None = None,
    options: EngineOptions | None = None,
    source_lang: str | None = None,
    fmt: str | None = None,
) -> CheckResult:
    """Which outputs a run would write, and why; translates nothing, loads no model and writes nothing."""
    job = _job(archive, targets, out, layout, globs, registry, options or EngineOptions(), source_lang, fmt)
    manifest = Manifest(state_dir(job.out))
    stale: list[Stale] = []
    outputs = 0
    for path in job.paths:
        outputs += len(job.outputs[path])
        data, error = _read(job.archive / path)
        if data is None:
            stale.extend(Stale(path, rel, error or "cannot read") for rel in job.outputs[path].values())
            continue
        stale.extend(manifest.stale_outputs(path, sha256_bytes(data), job.options, job.outputs[path], job.out,
                                            job.expected))
    warnings = job.warnings + [f"{path}: {error}" for path, error in job.rejected.items()]
    return CheckResult(len(job.paths), outputs, stale, warnings, orphans(manifest, job))


def orphans(manifest: Manifest, job: _Job) -> list[Orphan]:
    """Outputs still on disk whose source was deleted (or no longer matches the globs): published
    translations of an article that is gone.  An output another document now owns is not one."""
    current = {*job.paths, *job.rejected}
    owned = {relative for outputs in job.outputs.values() for relative in outputs.values()}
    found = []
    for source, entry in sorted(manifest.documents.items()):
        if source in current:
            continue
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        for item in (outputs or {}).values():
            relative = item.get("path") if isinstance(item, dict) else None
            if isinstance(relative, str) and relative not in owned and (job.out / relative).is_file():
                found.append(Orphan(source, relative))
    return found


def prune_orphans(manifest: Manifest, job: _Job, found: Sequence[Orphan]) -> list[Orphan]:
    """Remove the orphaned outputs that still hold exactly what this job wrote (a file edited
    since, or a link put in its place, is left alone and stays listed), then the folders that
    leaves empty, and forget the deleted sources that have no output left."""
    removed = []
    for orphan in found:
        path = job.out / orphan.output
        recorded = manifest.documents.get(orphan.source, {}).get("outputs", {})
        shas = {item.get("sha256") for item in recorded.values()
                if isinstance(item, dict) and item.get("path") == orphan.output}
        if path.is_symlink() or not path.is_file() or sha256_file(path) not in shas:
            continue
        path.unlink()
        removed.append(orphan)
        folder = path.parent
        while folder != job.out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    left = {o.source for o in found if o not in removed}
    for source in {o.source for o in removed} - left:
        manifest.forget(source)
    return removed
