"""Where a batch job's documents are translated: here, in local worker processes, or on Ray actors.

Every executor runs the same `DocumentWorker`: it holds the models for the whole job
(loaded once per process or actor), takes a group of documents, translates them in one
plan (so an engine call carries many documents' sentences) and hands back the rendered
outputs, the routes used and the new memory entries.  Only the job's driver writes
(outputs, memory, manifest), so the three executors leave identical files and an
identical memory; workers only read the memory, directly (local processes, WAL mode)
or through a small reader actor on the driver's node (Ray, whose workers may be on
machines that cannot see the driver's disk).

Parallelism never oversubscribes cores: N workers get cores // N threads each.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..engines.base import EngineOptions, OptionsError
from ..errors import UserError
from .manifest import ALIGNED
from ..memory.session import Collector, Lookup, MemorySession, no_lookup, reader
from ..memory.store import Entry

if TYPE_CHECKING:
    from ..document import DocumentResult
    from ..pipeline.detect import LanguageDetector
    from ..engines.pool import EnginePool
    from ..config.registry import Registry

MAX_LOCAL_WORKERS = 4  # each worker holds its own copy of every model it loads
IN_FLIGHT_PER_WORKER = 2  # groups queued per worker, so none waits for the driver


@dataclass(frozen=True)
class Source:
    """One archive document as the driver read it."""

    path: str  # relative POSIX path in the archive; also the document's name
    text: str
    sha256: str


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to translate like every other worker (plain, picklable data)."""

    targets: tuple[str, ...]
    registry: Registry
    options: EngineOptions = field(default_factory=EngineOptions)
    source_lang: str | None = None
    fmt: str | None = None


@dataclass
class DocOutcome:
    """One document's result: rendered texts per target (and ALIGNED), routes, problems, or an error."""

    path: str
    sha256: str
    texts: dict[str, str] = field(default_factory=dict)
    routes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # text left in the source language by design
    error: str | None = None


@dataclass
class GroupResult:
    outcomes: list[DocOutcome]
    entries: list[Entry]
    used: list[bytes]
    translated: int  # sentences (per pair) engines translated
    reused: int  # sentences (per pair) taken from the memory
    tokens: int  # whitespace tokens engines wrote
    seconds: float


class DocumentWorker:
    """Translates groups of documents for a whole job; holds its models and detector until closed."""

    def __init__(self, spec: JobSpec, lookup: Lookup = no_lookup, *, pool: EnginePool | None = None,
                 detector: LanguageDetector | None = None) -> None:
        from ..engines.pool import EnginePool

        self.spec = spec
        self.lookup = lookup
        self.registry = spec.registry
        self.pool = pool or EnginePool(spec.options)
        self._detector = detector

    @property
    def detector(self) -> LanguageDetector:
        if self._detector is None:
            from ..api import new_detector

            self._detector = new_detector()
        return self._detector

    def process(self, sources: Sequence[Source]) -> GroupResult:
        """Translate `sources` together; a document that fails is reported and the others still finish."""
        from ..api import parse_document

        start = time.perf_counter()
        outcomes: dict[str, DocOutcome] = {}
        documents = []
        for source in sources:
            try:
                documents.append((source, parse_document(source.text, source.path, self.spec.fmt)))
            except Exception as exc:  # noqa: BLE001 - any reader failure is this document's failure
                outcomes[source.path] = DocOutcome(source.path, source.sha256, error=_describe(exc))
        collector = Collector()
        session = MemorySession(self.lookup, collector)
        try:
            results = self._translate([doc for _, doc in documents], session)
            done = list(zip(documents, results))
        except OptionsError:
            raise
        except Exception:  # noqa: BLE001 - find the document at fault: one at a time
            if len(documents) > 1:
                collector.drain()
                session = MemorySession(self.lookup, collector)
            done = []
            for source, doc in documents:
                try:
                    done.append(((source, doc), self._translate([doc], session)[0]))
                except OptionsError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    outcomes[source.path] = DocOutcome(source.path, source.sha256, error=_describe(exc))
        for (source, _), result in done:
            outcomes[source.path] = self._outcome(source, result)
        entries, used = collector.drain()
        counts = session.counts
        return GroupResult([outcomes[s.path] for s in sources], entries, used, counts.translated, counts.reused,
                           counts.tokens, time.perf_counter() - start)

    def _translate(self, documents: list, session: MemorySession) -> list[DocumentResult]:
        from ..api import translate_documents

        if not documents:
            return []
        return translate_documents(documents, self.spec.targets, registry=self.registry, options=self.spec.options,
                                   source_lang=self.spec.source_lang, detector=self.detector, pool=self.pool,
                                   memory=session)

    def _outcome(self, source: Source, result: DocumentResult) -> DocOutcome:
        from ..output import jsonl

        texts = {tgt: result.text(tgt) for tgt in result.translations}
        texts[ALIGNED] = jsonl(result.records())
        routes = {tgt: [self._route(src, tgt) for src in sorted(set(result.block_langs)) if src != tgt]
                  for tgt in result.translations}
        return DocOutcome(source.path, source.sha256, texts, routes, list(dict.fromkeys(result.problems)),
                          list(result.notes))

    def _route(self, src: str, tgt: str) -> dict[str, Any]:
        """The model that served src→tgt (the pool remembers its choice, so this loads nothing new)."""
        engine, _ = self.pool.choose(self.registry.candidates(src, tgt), src, tgt)
        if engine is None:
            return {"from": src, "model": None}
        return {"from": src, "model": engine.spec.name, "identity": engine.identity().as_dict()}

    def close(self) -> None:
        self.pool.close()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, UserError) else f"{type(exc).__name__}: {text}"


# ---------------------------------------------------------------------------------------------
# Sizing


def visible_gpus(device: str) -> int:
    """NVIDIA GPUs this job may use, found without importing torch (which costs seconds)."""
    if device == "cpu":
        return 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    gpus = Path("/proc/driver/nvidia/gpus")
    return len(list(gpus.iterdir())) if gpus.is_dir() else 0


def gpu_assignments(workers: int, gpus: int, visible: str | None = None) -> list[str]:
    """The CUDA_VISIBLE_DEVICES value of each local worker: the GPUs in turn, so that one
    worker per GPU gets a GPU of its own (every worker would otherwise use the first)."""
    if gpus <= 0:
        return []
    ids = [d.strip() for d in visible.split(",") if d.strip()] if visible else [str(i) for i in range(gpus)]
    return [ids[i % len(ids)] for i in range(workers)]


def plan_workers(cores: int, gpus: int = 0, requested: int | None = None) -> tuple[int, int]:
    """(workers, threads per worker): one worker per GPU where there are GPUs, else one per core
    up to MAX_LOCAL_WORKERS; threads split the cores so workers × threads ≤ cores."""
    if requested:
        workers = requested
    elif gpus:
        workers = gpus
    else:
        workers = min(cores, MAX_LOCAL_WORKERS)
    return workers, max(1, cores // workers)


def limit_threads(threads: int) -> None:
    """Cap the compute threads of this process's libraries (torch reads these when first imported)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MULTITRANS_THREADS"):
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------
# Executors


class Executor(Protocol):
    workers: int

    def map(self, groups: Iterable[list[Source]]) -> Iterator[GroupResult]:
        """Process every group; yield results as they finish (in any order)."""
        ...

    def close(self, abort: bool = False) -> None:
        """Release the workers; `abort` (an interrupt) stops them where they are, without
        waiting for the groups in flight: what was not returned is redone by a rerun."""
        ...


class InProcessExecutor:
    """One worker, in this process: no start-up cost, and tests can hand it their own engines."""

    workers = 1

    def __init__(self, worker: DocumentWorker) -> None:
        self.worker = worker

    def map(self, groups: Iterable[list[Source]]) -> Iterator[GroupResult]:
        for group in groups:
            yield self.worker.process(group)

    def close(self, abort: bool = False) -> None:
        self.worker.close()


_PROCESS_WORKER: DocumentWorker | None = None


def _start_process_worker(spec: JobSpec, memory_path: str | None, threads: int, parent: int, devices: Any) -> None:
    """Runs once in each worker process, before any model (or torch) is loaded."""
    global _PROCESS_WORKER
    # Ctrl-C reaches the whole process group: the driver alone answers it, and stops the
    # workers itself (LocalExecutor.close), instead of each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices.get()
    limit_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    memory = reader(memory_path)
    _PROCESS_WORKER = DocumentWorker(spec, memory.lookup if memory is not None else no_lookup)


def _exit_with_parent(parent: int) -> None:
    """A killed driver must not leave workers translating for nobody."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _process_group(sources: list[Source]) -> GroupResult:
    assert _PROCESS_WORKER is not None
    return _PROCESS_WORKER.process(sources)


class LocalExecutor:
    """Worker processes on this machine (spawned, so no half-initialized torch is forked)."""

    def __init__(self, spec: JobSpec, memory_path: str | None, workers: int, threads: int, gpus: int = 0) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        devices = None
        if gpus:
            devices = context.Queue()
            for device in gpu_assignments(workers, gpus, os.environ.get("CUDA_VISIBLE_DEVICES")):
                devices.put(device)
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context,
            initializer=_start_process_worker, initargs=(spec, memory_path, threads, os.getpid(), devices),
        )

    def map(self, groups: Iterable[list[Source]]) -> Iterator[GroupResult]:
        pending: set[Future[GroupResult]] = set()
        for group in groups:
            while len(pending) >= self.workers * IN_FLIGHT_PER_WORKER:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
            pending.add(self._pool.submit(_process_group, group))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)

    def close(self, abort: bool = False) -> None:
        if abort:
            # A group can take minutes; Ctrl-C must not wait for it.  The pool offers no public
            # way to stop running workers before Python 3.14 (terminate_workers).
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


class _RayMemoryReader:
    """Serves memory lookups to Ray workers from the driver's node, where the memory file is."""

    def __init__(self, path: str | None) -> None:
        self.memory = reader(path)

    def lookup(self, keys: list[bytes]) -> dict:
        return self.memory.lookup(keys) if self.memory is not None else {}


class _RayWorker:
    """A model-holding Ray actor: one DocumentWorker for the whole job."""

    def __init__(self, spec: JobSpec, reader: Any, threads: int) -> None:
        import ray

        limit_threads(threads)
        self.worker = DocumentWorker(spec, lambda keys: ray.get(reader.lookup.remote(list(keys))))

    def process(self, sources: list[Source]) -> GroupResult:
        return self.worker.process(sources)

    def node(self) -> str:
        import socket

        return socket.gethostname()


class RayExecutor:
    """Ray actors across a cluster: one per GPU, or per CPU worker slot (sized like the local executor).

    `address` names an existing cluster (`HOST:PORT`, or `auto` for the one this machine
    belongs to); without it Ray starts a local instance for the job.  A Ray session
    opened here is closed here; one the caller opened is left open.
    """

    def __init__(self, spec: JobSpec, memory_path: str | None, address: str | None = None,
                 workers: int | None = None) -> None:
        try:
            import ray
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        except ImportError as exc:
            raise UserError("--executor ray needs Ray: pip install 'multitrans[ray]'") from exc
        self._ray = ray
        self._opened = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as exc:
                raise UserError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
            self._opened = True
        try:
            here = ray.get_runtime_context().get_node_id()
            reader_class = ray.remote(_RayMemoryReader)
            self._reader = reader_class.options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
            ).remote(memory_path)
            worker_class = ray.remote(_RayWorker)
            self._actors = []
            for node in ray.nodes():
                if not node.get("Alive"):
                    continue
                resources = node.get("Resources", {})
                cores, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
                if not cores and not gpus:
                    continue  # e.g. a head node started with --num-cpus=0
                count, threads = plan_workers(max(cores, 1), gpus, workers)
                placement = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                for _ in range(count):
                    # An actor that crashes (out of memory, say) is restarted and its group retried;
                    # a group is only ever written once, by the driver, so a retry cannot duplicate work.
                    options: dict[str, Any] = {"scheduling_strategy": placement, "num_cpus": threads if cores else 0,
                                               "max_restarts": 2, "max_task_retries": 2}
                    if gpus:
                        options["num_gpus"] = 1
                    self._actors.append(worker_class.options(**options).remote(spec, self._reader, threads))
            if not self._actors:
                raise UserError("the Ray cluster has no node with CPUs or GPUs to run workers on")
            self.workers = len(self._actors)
        except BaseException:
            self.close()
            raise

    def map(self, groups: Iterable[list[Source]]) -> Iterator[GroupResult]:
        ray = self._ray
        free = deque(actor for actor in self._actors for _ in range(IN_FLIGHT_PER_WORKER))
        running: dict[Any, Any] = {}
        for group in groups:
            while not free:
                [ready], _ = ray.wait(list(running), num_returns=1)
                free.append(running.pop(ready))
                yield ray.get(ready)
            actor = free.popleft()
            running[actor.process.remote(group)] = actor
        while running:
            [ready], _ = ray.wait(list(running), num_returns=1)
            running.pop(ready)
            yield ray.get(ready)

    def close(self, abort: bool = False) -> None:
        ray = self._ray
        for actor in getattr(self, "_actors", []):
            ray.kill(actor)
        if getattr(self, "_reader", None) is not None:
            ray.kill(self._reader)
        if self._opened:
            ray.shutdown()
            self._opened = False
