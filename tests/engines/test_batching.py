"""Whole-job scheduling: token-budget batches, scatter, OOM halving, thread counts."""

from __future__ import annotations

import pytest

from multitrans.engines.batching import (
    Budget,
    HalvingRunner,
    cpu_threads,
    is_out_of_memory,
    scatter,
    split_where,
    token_batches,
)

LENGTHS = [7, 3, 12, 3, 40, 1, 9, 9, 15, 2, 30, 5]


# --- token budget batches -----------------------------------------------------------------


def test_every_row_is_scheduled_once_in_length_order_within_the_budget() -> None:
    budget = Budget(max_tokens=48, max_rows=4)
    batches = token_batches(LENGTHS, budget)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(LENGTHS)))
    assert [LENGTHS[i] for i in flat] == sorted(LENGTHS)
    for batch in batches:
        assert len(batch) <= budget.max_rows
        longest = max(LENGTHS[i] for i in batch)
        assert len(batch) * longest <= budget.max_tokens or len(batch) == 1


def test_short_rows_share_a_batch_long_rows_get_few_companions() -> None:
    batches = token_batches([2] * 10 + [60] * 4, Budget(max_tokens=128, max_rows=64))
    assert [len(b) for b in batches] == [10, 2, 2]


def test_a_row_larger_than_the_budget_gets_its_own_batch_and_is_never_dropped() -> None:
    assert token_batches([500, 3, 3], Budget(max_tokens=64, max_rows=8)) == [[1, 2], [0]]


def test_equal_lengths_keep_input_order_so_the_schedule_is_deterministic() -> None:
    assert token_batches([5, 5, 5, 5], Budget(max_tokens=10, max_rows=8)) == [[0, 1], [2, 3]]


def test_weights_count_decoder_rows_of_a_shared_encoder_pass() -> None:
    # three sources going into 4 languages each: 12 decoder rows, at most 8 per batch
    assert token_batches([3, 3, 3], Budget(max_tokens=1000, max_rows=8), weights=[4, 4, 4]) == [[0, 1], [2]]


def test_beam_search_and_gpus_change_the_budget() -> None:
    cpu, gpu, beam = Budget.for_device("cpu"), Budget.for_device("cuda"), Budget.for_device("cpu", beam=4)
    assert gpu.max_rows > cpu.max_rows and gpu.max_tokens > cpu.max_tokens
    assert beam.max_rows < cpu.max_rows and beam.max_tokens < cpu.max_tokens


def test_split_where_cuts_at_key_changes() -> None:
    budgets = {0: 10, 1: 10, 2: 12, 3: 12, 4: 10}
    assert split_where([0, 1, 2, 3, 4], budgets.__getitem__) == [[0, 1], [2, 3], [4]]


def test_scatter_puts_results_back_in_input_order() -> None:
    batches = token_batches(LENGTHS, Budget(max_tokens=30, max_rows=3))
    outputs = [[f"out{i}" for i in batch] for batch in batches]
    assert scatter(batches, outputs, len(LENGTHS)) == [f"out{i}" for i in range(len(LENGTHS))]


def test_scatter_refuses_lost_or_missing_rows() -> None:
    with pytest.raises(RuntimeError, match="2 rows came back with 1"):
        scatter([[0, 1]], [["a"]], 2)
    with pytest.raises(RuntimeError, match="never scheduled"):
        scatter([[0]], [["a"]], 2)


# --- CUDA out of memory: halve and retry ------------------------------------------------------


class FakeOOM(RuntimeError):
    pass


class Device:
    """Runs batches like a GPU with room for `fits` rows; records every attempt."""

    def __init__(self, fits: int, message: str = "CUDA out of memory. Tried to allocate 2.00 GiB") -> None:
        self.fits, self.message = fits, message
        self.attempts: list[list[int]] = []

    def __call__(self, batch: list[int]) -> list[str]:
        self.attempts.append(list(batch))
        if len(batch) > self.fits:
            raise FakeOOM(self.message)
        return [f"t{i}" for i in batch]


def test_out_of_memory_halves_the_batch_until_it_fits_and_keeps_every_row_in_order() -> None:
    device, freed = Device(fits=3), []
    runner = HalvingRunner(on_oom=lambda: freed.append(1))
    rows = list(range(10))
    assert runner(rows, device) == [f"t{i}" for i in rows]
    done = [i for attempt in device.attempts if len(attempt) <= 3 for i in attempt]
    assert sorted(done) == rows  # each row translated exactly once
    assert runner.halvings == len(freed) > 0
    assert runner.cap is not None and runner.cap <= 3


def test_the_size_that_fitted_is_remembered_for_later_batches() -> None:
    device = Device(fits=4)
    runner = HalvingRunner()
    runner(list(range(16)), device)
    failures = len([a for a in device.attempts if len(a) > 4])
    device.attempts.clear()
    assert runner(list(range(100, 116)), device) == [f"t{i}" for i in range(100, 116)]
    assert all(len(a) <= 4 for a in device.attempts)  # no second trip to the wall
    assert failures >= 1


def test_a_single_row_that_does_not_fit_is_a_real_error() -> None:
    with pytest.raises(FakeOOM):
        HalvingRunner()([1, 2], Device(fits=0))


def test_other_errors_are_not_retried() -> None:
    device = Device(fits=0, message="shape mismatch")
    with pytest.raises(FakeOOM, match="shape mismatch"):
        HalvingRunner()([1, 2, 3, 4], device)
    assert len(device.attempts) == 1


@pytest.mark.parametrize(("error", "oom"), [
    (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), True),  # torch
    (RuntimeError("CUDA failed with error out of memory"), True),  # CTranslate2
    (MemoryError(), True),
    (RuntimeError("expected scalar type Float"), False),
    (ValueError("out of memory"), False),
])
def test_out_of_memory_is_recognised_as_torch_and_ctranslate2_report_it(error: BaseException, oom: bool) -> None:
    assert is_out_of_memory(error) is oom


# --- threads ----------------------------------------------------------------------------------


def test_threads_follow_the_cpus_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("MULTITRANS_THREADS", raising=False)
    assert cpu_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("MULTITRANS_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.setenv("MULTITRANS_THREADS", "many")
    with pytest.raises(ValueError, match="MULTITRANS_THREADS"):
        cpu_threads()


def test_a_cpu_batch_holds_no_more_rows_than_fit_its_memory() -> None:
    from multitrans.engines.batching import CPU_BATCH_MEMORY, decoder_row_bytes

    nllb = decoder_row_bytes(layers=12, width=1024, vocabulary=256206, source=45, output=32)
    opus = decoder_row_bytes(layers=6, width=512, vocabulary=58101, source=45, output=32)
    assert 10 * 2**20 < nllb < 20 * 2**20 and opus < nllb // 3
    assert decoder_row_bytes(12, 1024, 256206, 45, 32, beam=4) == 4 * nllb
    cpu = Budget.for_device("cpu")
    assert cpu.within(nllb, CPU_BATCH_MEMORY).max_rows == CPU_BATCH_MEMORY // nllb < cpu.max_rows
    assert cpu.within(opus, CPU_BATCH_MEMORY).max_rows == cpu.max_rows  # small models keep the speed-optimal size
    assert cpu.within(2**40, CPU_BATCH_MEMORY).max_rows == 1
