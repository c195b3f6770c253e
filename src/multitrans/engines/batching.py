"""Whole-job scheduling: how pooled work is cut into batches, and how it survives a full GPU.

An engine is handed every row of a job at once (all segments of all blocks, all target
languages, all documents of an archive, deduplicated by the plan).  Here those rows are
ordered by length and cut into batches by a *token budget* (rows x longest row, i.e. the
padded size the model really computes) rather than a fixed number of sentences: sixteen
headlines and sixteen 200-token paragraphs cost very different amounts, and a fixed count
either wastes the machine on the first or overflows it on the second.  Results come back
in input order (`scatter`).

A CUDA out-of-memory error is not fatal: `HalvingRunner` splits the batch in two and
retries each half, down to single rows, and remembers the size that fitted so later
batches do not hit the wall again.  No row is ever dropped.

Thread counts are sized to the CPUs this process may use (`cpu_threads`): tokenization,
CTranslate2 and torch run one after another in a run, each given every core, never
together, so they do not oversubscribe the machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..errors import UserError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Budget:
    """How big one batch may be: padded source tokens (rows x longest) and rows."""

    max_tokens: int
    max_rows: int

    @classmethod
    def for_device(cls, device: str, beam: int = 1) -> Budget:
        """Defaults measured on a 2-core CPU (README, Performance): CTranslate2 int8 gains up to
        about 100 rows of ~40 tokens (opus-mt-base: 2,380 tokens/s at 64 rows, 2,630 at 96;
        NLLB-600M: 107 at 16 rows, 177 at 64); a GPU keeps gaining up to hundreds.  Beam search
        multiplies the decoder's work by the beam, so it gets fewer rows.  What a row costs in
        memory depends on the model: see `within`."""
        beam = max(1, beam)
        if device.startswith("cuda"):
            return cls(max_tokens=max(1024, 16384 // beam), max_rows=max(8, 256 // beam))
        return cls(max_tokens=max(256, 4096 // beam), max_rows=max(4, 128 // beam))

    def within(self, row_bytes: int, memory: int) -> Budget:
        """At most as many rows as fit in `memory` when each takes `row_bytes` of working memory."""
        return Budget(self.max_tokens, max(1, min(self.max_rows, memory // max(1, row_bytes))))


# Working memory one CPU batch may take: a whole NLLB-600M int8 run then stays under 2 GB
# (the model, Python, the tokenizer and the language detectors take about 1.2 GB of it).
CPU_BATCH_MEMORY = 640 * 2**20


def decoder_row_bytes(layers: int, width: int, vocabulary: int, source: int, output: int, beam: int = 1) -> int:
    """Working memory of one row while decoding: float32 keys and values of every decoder
    layer's self- and cross-attention and one step's logits, times the beam, doubled for the
    layers' temporaries and what the allocator keeps (measured on NLLB-600M in CTranslate2
    int8: 10-12 MB a row at 24 + 32 tokens, against 6.5 MB for the caches and logits alone).
    On a CPU this, not speed, is what limits a large model's batch."""
    return 2 * 4 * beam * (2 * layers * width * (source + output) + vocabulary)


def cpu_count() -> int:
    """CPUs this process may run on: its affinity mask, not the machine's count, so a
    container limited to 2 of 64 cores gets 2."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cpu_threads() -> int:
    """Compute threads for this process: every CPU it may run on (`cpu_count`), unless
    `MULTITRANS_THREADS` says otherwise."""
    override = os.environ.get("MULTITRANS_THREADS", "").strip()
    if override:
        try:
            return max(1, int(override))
        except ValueError:
            raise UserError(f"MULTITRANS_THREADS must be a whole number, got {override!r}") from None
    return cpu_count()


def length_order(lengths: Sequence[int]) -> list[int]:
    """Indices sorted by length; equal lengths keep input order, so the schedule is deterministic."""
    return sorted(range(len(lengths)), key=lambda i: (lengths[i], i))


def token_batches(lengths: Sequence[int], budget: Budget, weights: Sequence[int] | None = None) -> list[list[int]]:
    """Cut length-sorted item indices into batches whose padded size fits the budget.

    `weights` says how many decoder rows an item becomes (a source segment with K target
    languages whose encoding is shared is K rows); by default each item is one row.  An item
    larger than the whole budget still gets a batch of its own: nothing is ever dropped or
    cut here (over-long input is split before it reaches an engine).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    rows = longest = 0
    for index in length_order(lengths):
        size = max(1, lengths[index])
        weight = max(1, weights[index]) if weights is not None else 1
        wider = max(longest, size)
        if current and (rows + weight > budget.max_rows or (rows + weight) * wider > budget.max_tokens):
            batches.append(current)
            current, rows, wider = [], 0, size
        current.append(index)
        rows += weight
        longest = wider
    if current:
        batches.append(current)
    return batches


def split_where(batch: Sequence[int], key: Callable[[int], object]) -> list[list[int]]:
    """Cut a batch wherever `key` changes between neighbours (e.g. the output budget, which
    beam search needs to be the same across a batch for a row's result not to depend on it)."""
    runs: list[list[int]] = []
    for index in batch:
        if runs and key(runs[-1][-1]) == key(index):
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def scatter(batches: Sequence[Sequence[int]], outputs: Sequence[Sequence[R]], size: int) -> list[R]:
    """Put each batch's outputs back at their rows' input positions."""
    placed: list[R | None] = [None] * size
    for batch, out in zip(batches, outputs, strict=True):
        if len(batch) != len(out):
            raise RuntimeError(f"a batch of {len(batch)} rows came back with {len(out)} results")
        for index, value in zip(batch, out):
            placed[index] = value
    missing = [i for i, value in enumerate(placed) if value is None]
    if missing:
        raise RuntimeError(f"{len(missing)} row(s) were never scheduled (first: {missing[0]})")
    return placed  # type: ignore[return-value]


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA out-of-memory as torch (`torch.cuda.OutOfMemoryError`, a RuntimeError) and
    CTranslate2 ("CUDA failed with error out of memory") report it, or a host MemoryError."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


class HalvingRunner:
    """Runs batches through `run`; on out-of-memory, halves the batch and retries.

    The largest size that had to be halved lowers `cap` for the rest of the job, so one
    oversized batch costs one failed attempt, not one per batch.  A single row that does
    not fit is a real error and is raised.
    """

    def __init__(self, is_oom: Callable[[BaseException], bool] = is_out_of_memory,
                 on_oom: Callable[[], None] | None = None) -> None:
        self.is_oom = is_oom
        self.on_oom = on_oom  # e.g. torch.cuda.empty_cache, so the retry finds the memory freed
        self.cap: int | None = None
        self.halvings = 0

    def __call__(self, items: Sequence[T], run: Callable[[list[T]], list[R]]) -> list[R]:
        items = list(items)
        if self.cap is not None and len(items) > self.cap:
            out: list[R] = []
            for start in range(0, len(items), self.cap):
                out.extend(self(items[start : start + self.cap], run))
            return out
        try:
            result = run(items)
        except Exception as exc:
            if not self.is_oom(exc) or len(items) <= 1:
                raise
            self.halvings += 1
            if self.on_oom is not None:
                self.on_oom()
            half = (len(items) + 1) // 2
            self.cap = half if self.cap is None else min(self.cap, half)
            return self(items[:half], run) + self(items[half:], run)
        if len(result) != len(items):
            raise RuntimeError(f"a batch of {len(items)} rows came back with {len(result)} results")
        return result
