"""The whole job per engine: the default `translate_multi` and the pooled runner."""

from __future__ import annotations

from collections.abc import Sequence

from multitrans.engines.base import MULTI_CHUNK, Decoding, Engine, EngineOptions, ModelSpec
from multitrans.pipeline.plan import Plan
from multitrans.pipeline.run import run_plan


class Recorder(Engine):
    """Only implements `translate`, as engines written before `translate_multi` do."""

    def __init__(self, spec: ModelSpec, options: EngineOptions, tunable: bool = False) -> None:
        super().__init__(spec, options)
        self.calls: list[tuple[tuple[str, ...], str, str, Decoding | None]] = []
        self.tunable_decoding = tunable

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        self.calls.append((tuple(segments), src, tgt, decoding))
        if tgt == "xx":
            raise RuntimeError("no such language")
        return [f"{tgt}:{s}" for s in segments]


def recorder(**kwargs: object) -> Recorder:
    return Recorder(ModelSpec("rec", "nllb", model="x/rec"), EngineOptions(), **kwargs)  # type: ignore[arg-type]


def test_default_translate_multi_serves_each_pair_in_chunks_in_order() -> None:
    engine = recorder()
    rows = [(f"s{i}", "nb", "de" if i % 3 else "fr") for i in range(2 * MULTI_CHUNK + 5)]
    progress: list[int] = []
    assert engine.translate_multi(rows, progress.append) == [f"{tgt}:{text}" for text, _, tgt in rows]
    for segments, src, tgt, _ in engine.calls:  # each call serves one pair
        assert set(segments) <= {text for text, s, t in rows if (s, t) == (src, tgt)}
    assert max(len(c[0]) for c in engine.calls) == MULTI_CHUNK
    assert sum(progress) == len(rows)


def test_default_translate_multi_passes_decoding_only_to_engines_that_take_it() -> None:
    retry = Decoding(beam=4)
    plain, tunable = recorder(), recorder(tunable=True)
    plain.translate_multi([("a", "nb", "de")], decoding=retry)
    tunable.translate_multi([("a", "nb", "de")], decoding=retry)
    assert plain.calls[0][3] is None and tunable.calls[0][3] is retry


class Pooled(Recorder):
    """Records whole-job calls."""

    def __init__(self) -> None:
        super().__init__(ModelSpec("pooled", "nllb", model="x/pooled"), EngineOptions())
        self.jobs: list[list[tuple[str, str, str]]] = []

    def translate_multi(self, rows, on_progress=None, decoding=None):  # type: ignore[no-untyped-def]
        self.jobs.append(list(rows))
        return super().translate_multi(rows, on_progress, decoding)


def plan_for(pairs: dict[tuple[str, str], list[str]], engine: str = "pooled") -> Plan:
    return Plan(tuple(t for _, t in pairs), [], {engine: {pair: {t: () for t in texts} for pair, texts in pairs.items()}})


def test_the_runner_hands_an_engine_all_its_pairs_in_one_job() -> None:
    engine = Pooled()
    plan = plan_for({("nb", "de"): ["En.", "To."], ("nb", "fr"): ["En.", "Tre."], ("en", "de"): ["One."]})
    progress: list[int] = []
    result = run_plan(plan, {"pooled": engine}, progress.append)
    assert len(engine.jobs) == 1
    assert sorted(engine.jobs[0]) == sorted([("En.", "nb", "de"), ("To.", "nb", "de"), ("En.", "nb", "fr"),
                                             ("Tre.", "nb", "fr"), ("One.", "en", "de")])
    assert result.translations[("pooled", "nb", "fr", "Tre.")] == "fr:Tre."
    assert result.translations[("pooled", "en", "de", "One.")] == "de:One."
    assert sum(progress) == 5 and not result.failures


def test_a_failing_pair_is_isolated_and_reported_while_the_others_are_translated() -> None:
    engine = Pooled()
    plan = plan_for({("nb", "de"): ["En."], ("nb", "xx"): ["En.", "To."], ("nb", "fr"): ["To."]})
    progress: list[int] = []
    result = run_plan(plan, {"pooled": engine}, progress.append)
    assert result.translations == {("pooled", "nb", "de", "En."): "de:En.", ("pooled", "nb", "fr", "To."): "fr:To."}
    [failure] = result.failures  # handed to repair as data, which retries and reports it
    assert (failure.engine, failure.src, failure.tgt, str(failure.error)) == ("pooled", "nb", "xx", "no such language")
    assert len(engine.jobs) == 1 + 3  # the whole job, then each pair on its own
    assert sum(progress) == 4  # the bar ends full, counted once


def test_a_sentence_over_the_limit_is_cut_and_counted_once_for_all_its_pairs() -> None:
    class Limited(Pooled):
        counted: list[str]

        @property
        def max_input_tokens(self) -> int:
            return 4

        def count_tokens(self, texts: Sequence[str]) -> list[int]:
            self.counted.extend(texts)
            return [len(t.split()) for t in texts]

    sentence = "ett to tre, fire fem seks, sju åtte ni."
    counted = []
    for targets in (["de"], ["de", "fr", "uk"]):
        engine = Limited()
        engine.counted = []
        result = run_plan(plan_for({("nb", tgt): [sentence] for tgt in targets}), {"pooled": engine}, None)
        assert result.translations[("pooled", "nb", "de", sentence)].count("de:") > 1  # cut into pieces
        assert all(len(text.split()) <= 4 for text, _, _ in engine.jobs[0])
        counted.append(len(engine.counted))
    assert counted[0] == counted[1]  # tokenized and cut once, whatever the number of pairs
