"""The CTranslate2 runtime: conversion and its cache, runtime choice, and agreement with transformers.

Everything runs offline on the tiny checkpoints the conftest builds; converted models go
to a temporary cache ($MULTITRANS_CT2_CACHE), never the user's.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import pytest

from multitrans.engines.convert import (
    cache_root,
    convert_model,
    converted_path,
    find_converted,
    is_converted,
    model_dir_key,
    read_metadata,
)
from multitrans.engines import Engine, EngineError, EngineOptions, ModelSpec, load_engine
from multitrans.engines.base import Decoding, OptionsError
from fakes import tiny_spec as spec
from samples import SEGMENTS

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ct2_cache"), pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses:UserWarning")]

TARGETS = {"marian": ["de", "fr", "uk"], "nllb": ["de", "uk", "fr", "en"]}


@pytest.fixture(scope="module")
def pairs(tiny_dirs: dict[str, Path]) -> dict[str, tuple[Engine, Engine]]:
    """(transformers, CTranslate2 float32) engines per architecture, loaded once."""
    from multitrans.engines.ct2 import Ct2MarianEngine, Ct2NllbEngine

    out = {}
    for kind, directory in tiny_dirs.items():
        path = convert_model(spec(kind, directory), "float32")
        hf = load_engine(spec(kind, directory, runtime="transformers"), EngineOptions(device="cpu", batch_size=3))
        ct2_class = Ct2MarianEngine if kind == "marian" else Ct2NllbEngine
        out[kind] = (hf, ct2_class(spec(kind, directory, runtime="ct2"), EngineOptions(device="cpu"), path))
    return out


def rows_for(kind: str) -> list[tuple[str, str, str]]:
    return [(text, "nb", tgt) for tgt in TARGETS[kind] for text in SEGMENTS]


# --- conversion and its cache ----------------------------------------------------------------


def test_conversion_is_self_contained_and_done_once(tiny_marian_dir: Path, ct2_cache: Path) -> None:
    model = spec("marian", tiny_marian_dir)
    said: list[str] = []
    path = convert_model(model, "int8", say=said.append)
    assert path == converted_path(model, "int8") and path.is_relative_to(ct2_cache)
    assert is_converted(path)
    hf = path / "hf"
    assert (hf / "tokenizer_config.json").is_file() and (hf / "config.json").is_file()
    assert not list(hf.glob("*.safetensors"))  # CTranslate2's model.bin replaces the weights
    metadata = read_metadata(path)
    assert metadata["quantization"] == "int8" and metadata["origin"].startswith(f"local:{tiny_marian_dir}")
    built = (path / "model.bin").stat().st_mtime_ns
    assert convert_model(model, "int8", say=said.append) == path
    assert (path / "model.bin").stat().st_mtime_ns == built and "already converted" in said[-1]
    convert_model(model, "int8", force=True)
    assert (path / "model.bin").stat().st_mtime_ns != built
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no partial conversions left


def test_a_local_checkpoint_is_keyed_by_its_files_and_a_hub_model_by_id_and_revision(tmp_path: Path, tiny_marian_dir: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_marian_dir, copy)
    before = model_dir_key(spec("marian", copy))
    os.utime(copy / "model.safetensors", ns=(1, 1))
    after = model_dir_key(spec("marian", copy))
    assert before[0] == after[0] and before[1] != after[1]  # a rebuild never reuses a stale conversion
    hub = ModelSpec("x", "marian", model="Helsinki-NLP/opus-mt-en-de", revision="refs/pr/1")
    assert model_dir_key(hub) == ("Helsinki-NLP--opus-mt-en-de", "refs--pr--1")
    assert model_dir_key(replace(hub, revision=None))[1] == "main"


def test_the_cache_lives_beside_the_hugging_face_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MULTITRANS_CT2_CACHE")
    assert cache_root() == Path(huggingface_hub.constants.HF_HUB_CACHE).parent / "multitrans-ct2"
    assert cache_root(str(tmp_path / "hub")) == tmp_path / "multitrans-ct2"
    monkeypatch.setenv("MULTITRANS_CT2_CACHE", str(tmp_path / "elsewhere"))
    assert cache_root(str(tmp_path / "hub")) == tmp_path / "elsewhere"


def test_a_device_prefers_its_own_quantization(tiny_nllb_dir: Path) -> None:
    model = spec("nllb", tiny_nllb_dir)
    convert_model(model, "float16")
    assert find_converted(model, "cuda") == converted_path(model, "float16")
    convert_model(model, "int8")
    assert find_converted(model, "cpu") == converted_path(model, "int8")


# --- which runtime serves a model ---------------------------------------------------------------


def test_auto_uses_a_conversion_only_when_there_is_one(tmp_path: Path, tiny_marian_dir: Path) -> None:
    copy = tmp_path / "fresh"
    shutil.copytree(tiny_marian_dir, copy)
    model = spec("marian", copy)
    assert load_engine(model, EngineOptions(device="cpu")).runtime == "transformers-float32"
    convert_model(model, "int8")
    assert load_engine(model, EngineOptions(device="cpu")).runtime == "ctranslate2-int8"
    assert load_engine(replace(model, runtime="transformers"), EngineOptions(device="cpu")).runtime == "transformers-float32"


def test_runtime_ct2_converts_on_first_use(tmp_path: Path, tiny_nllb_dir: Path) -> None:
    copy = tmp_path / "fresh-nllb"
    shutil.copytree(tiny_nllb_dir, copy)
    model = spec("nllb", copy, runtime="ct2")
    assert find_converted(model, "cpu") is None
    engine = load_engine(model, EngineOptions(device="cpu"))
    assert engine.runtime == "ctranslate2-int8" and find_converted(model, "cpu") == converted_path(model, "int8")
    assert len(engine.translate(["Hei på deg."], "nb", "de")) == 1


def test_cuda_without_a_gpu_stops_the_run(tiny_dirs: dict[str, Path]) -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count():
        pytest.skip("this machine has a GPU")
    with pytest.raises(OptionsError, match="no CUDA GPU"):
        load_engine(spec("nllb", tiny_dirs["nllb"], runtime="ct2"), EngineOptions(device="cuda"))


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_a_gpu_ctranslate2_cannot_compute_on_stops_the_run_at_load(
    monkeypatch: pytest.MonkeyPatch, tiny_dirs: dict[str, Path], device: str,
) -> None:
    """What an H100 with only CUDA 13 libraries did: CTranslate2 4 (built for CUDA 12) counted the GPU,
    loaded the model, then failed every sentence with "libcublas.so.12 is not found"."""
    import multitrans.engines.ct2 as ct2_module

    class NoCublas:
        device = "cuda"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def translate_batch(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")

    path = convert_model(spec("nllb", tiny_dirs["nllb"]), "int8")
    monkeypatch.setattr(ct2_module.ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(ct2_module.ctranslate2, "Translator", NoCublas)
    monkeypatch.setattr(ct2_module, "compute_type", lambda quantization, device: "int8_float16")
    with pytest.raises(OptionsError) as caught:
        ct2_module.Ct2NllbEngine(spec("nllb", tiny_dirs["nllb"], runtime="ct2"), EngineOptions(device=device), path)
    message = str(caught.value)
    assert "libcublas.so.12" in message and "--device cpu" in message and "\n" not in message


def test_ctranslate2_gets_every_core_for_one_translation_at_a_time(
    monkeypatch: pytest.MonkeyPatch, tiny_dirs: dict[str, Path],
) -> None:
    import multitrans.engines.ct2 as ct2_module

    seen: dict[str, Any] = {}
    real = ct2_module.ctranslate2.Translator

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ct2_module.ctranslate2, "Translator", spy)
    monkeypatch.setenv("MULTITRANS_THREADS", "3")
    load_engine(spec("nllb", tiny_dirs["nllb"], runtime="ct2"), EngineOptions(device="cpu"))
    assert seen["intra_threads"] == 3 and seen["inter_threads"] == 1


# --- the two runtimes agree -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["marian", "nllb"])
def test_greedy_outputs_are_the_same_tokens_in_both_runtimes(kind: str, pairs: dict[str, tuple[Engine, Engine]]) -> None:
    hf, ct2 = pairs[kind]
    assert ct2.runtime == "ctranslate2-float32"
    rows = rows_for(kind)
    expected = [hf.translate(SEGMENTS, "nb", tgt) for tgt in TARGETS[kind]]
    flat = [text for per_target in expected for text in per_target]
    assert len(set(flat)) > len(flat) // 3  # the tiny models' outputs differ, so a mix-up would show
    assert ct2.translate_multi(rows) == flat
    assert hf.translate_multi(rows) == flat  # pooled, mixed-target batches change nothing
    assert [ct2.translate(SEGMENTS, "nb", tgt) for tgt in TARGETS[kind]] == expected
    assert ct2.count_tokens(SEGMENTS) == hf.count_tokens(SEGMENTS)


@pytest.mark.parametrize("kind", ["marian", "nllb"])
def test_outputs_do_not_depend_on_batch_mates(kind: str, pairs: dict[str, tuple[Engine, Engine]]) -> None:
    _, ct2 = pairs[kind]
    rows = rows_for(kind)
    assert ct2.translate_multi(rows) == [ct2.translate_multi([row])[0] for row in rows]


def test_beam_search_agrees_across_batches(tiny_dirs: dict[str, Path]) -> None:
    engine = load_engine(spec("marian", tiny_dirs["marian"], runtime="ct2"), EngineOptions(device="cpu", beam=3))
    rows = rows_for("marian")
    assert engine.translate_multi(rows) == [engine.translate_multi([row])[0] for row in rows]
    retry = Decoding(beam=2, repetition_penalty=1.3, no_repeat_ngram_size=3)
    assert len(engine.translate(SEGMENTS, "nb", "de", decoding=retry)) == len(SEGMENTS)


def test_a_forced_output_length_is_honoured_the_same_way(tmp_path: Path, tiny_nllb_dir: Path) -> None:
    """min_new_tokens = max_new_tokens in a checkpoint's generation config fixes the length (the benchmark's lever)."""
    forced = tmp_path / "forced"
    shutil.copytree(tiny_nllb_dir, forced)
    config_path = forced / "generation_config.json"
    config = json.loads(config_path.read_text())
    config.update(min_new_tokens=7, max_new_tokens=7)
    config_path.write_text(json.dumps(config))
    convert_model(spec("nllb", forced), "float32")
    hf = load_engine(spec("nllb", forced, runtime="transformers"), EngineOptions(device="cpu"))
    ct2 = load_engine(spec("nllb", forced, runtime="ct2"), EngineOptions(device="cpu"))
    lengths: list[int] = []
    real = ct2.translator.translate_batch  # type: ignore[attr-defined]

    def spy(*args: Any, **kwargs: Any) -> Any:
        results = real(*args, **kwargs)
        lengths.extend(len(r.hypotheses[0]) for r in results)
        return results

    ct2.translator = _Proxy(ct2.translator, translate_batch=spy)  # type: ignore[attr-defined]
    rows = rows_for("nllb")
    assert ct2.translate_multi(rows) == hf.translate_multi(rows) == [
        hf.translate([text], "nb", tgt)[0] for text, _, tgt in rows
    ]
    assert lengths and set(lengths) == {7}  # the language token and six more, whatever the input


def test_long_input_and_output_are_never_cut_at_ctranslate2_defaults(pairs: dict[str, tuple[Engine, Engine]]) -> None:
    hf, ct2 = pairs["nllb"]
    text = " ".join(SEGMENTS) * 3
    calls: list[dict[str, Any]] = []
    translator = ct2.translator  # type: ignore[attr-defined]
    real = translator.translate_batch

    def spy(source: Any, *args: Any, **kwargs: Any) -> Any:
        results = real(source, *args, **kwargs)
        calls.append({"source": len(source[0]), "kwargs": kwargs, "out": len(results[0].hypotheses[0])})
        return results

    ct2.translator = _Proxy(translator, translate_batch=spy)  # type: ignore[attr-defined]
    try:
        assert ct2.translate([text], "nb", "de") == hf.translate([text], "nb", "de")
    finally:
        ct2.translator = translator  # type: ignore[attr-defined]
    [call] = calls
    assert call["kwargs"]["max_input_length"] >= call["source"]
    assert call["kwargs"]["max_decoding_length"] == 2 * call["source"] + 9 > 256
    assert call["out"] > 256  # this tiny model never says </s>: it runs to its own budget, not the default


def test_overlong_input_is_refused_not_truncated(pairs: dict[str, tuple[Engine, Engine]]) -> None:
    _, ct2 = pairs["marian"]
    with pytest.raises(EngineError, match="split"):
        ct2.translate(["Hei på deg. " * 300], "nb", "de")


def test_nllb_batches_mix_target_languages(pairs: dict[str, tuple[Engine, Engine]]) -> None:
    _, ct2 = pairs["nllb"]
    prefixes: list[set[str]] = []
    translator = ct2.translator  # type: ignore[attr-defined]
    real = translator.translate_batch

    def spy(source: Any, target_prefix: Any = None, **kwargs: Any) -> Any:
        prefixes.append({p[0] for p in target_prefix})
        return real(source, target_prefix, **kwargs)

    ct2.translator = _Proxy(translator, translate_batch=spy)  # type: ignore[attr-defined]
    try:
        ct2.translate_multi(rows_for("nllb"))
    finally:
        ct2.translator = translator  # type: ignore[attr-defined]
    assert any(len(languages) > 1 for languages in prefixes)


def test_transformers_nllb_encodes_each_segment_once_for_all_targets(pairs: dict[str, tuple[Engine, Engine]]) -> None:
    hf, _ = pairs["nllb"]
    encoder = hf.model.get_encoder()  # type: ignore[attr-defined]
    encoded: list[int] = []
    handle = encoder.register_forward_pre_hook(
        lambda module, args, kwargs: encoded.append(kwargs["input_ids"].shape[0]), with_kwargs=True,
    )
    try:
        hf.translate_multi(rows_for("nllb"))
    finally:
        handle.remove()
    assert sum(encoded) == len([s for s in SEGMENTS if s.strip()])  # not times the four targets


# --- CUDA out of memory ---------------------------------------------------------------------------


def test_ctranslate2_out_of_memory_halves_the_batch(tiny_dirs: dict[str, Path]) -> None:
    engine = load_engine(spec("nllb", tiny_dirs["nllb"], runtime="ct2"), EngineOptions(device="cpu"))
    rows = rows_for("nllb")
    expected = engine.translate_multi(rows)
    real = engine.translator.translate_batch  # type: ignore[attr-defined]

    def small_gpu(source: Any, *args: Any, **kwargs: Any) -> Any:
        if len(source) > 2:
            raise RuntimeError("CUDA failed with error out of memory")
        return real(source, *args, **kwargs)

    engine.translator = _Proxy(engine.translator, translate_batch=small_gpu)  # type: ignore[attr-defined]
    assert engine.translate_multi(rows) == expected
    assert engine._halving.halvings > 0 and engine._halving.cap <= 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["marian", "nllb"])
def test_transformers_out_of_memory_halves_the_batch(kind: str, tiny_dirs: dict[str, Path]) -> None:
    import torch

    engine = load_engine(spec(kind, tiny_dirs[kind], runtime="transformers"), EngineOptions(device="cpu"))
    rows = rows_for(kind)
    expected = engine.translate_multi(rows)
    real = engine.model.generate  # type: ignore[attr-defined]

    def small_gpu(**kwargs: Any) -> Any:
        rows_in = kwargs["decoder_input_ids"] if "decoder_input_ids" in kwargs else kwargs["input_ids"]
        if rows_in.shape[0] > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(**kwargs)

    engine.model.generate = small_gpu  # type: ignore[attr-defined]
    assert engine.translate_multi(rows) == expected
    assert engine.translate(SEGMENTS, "nb", "de") == expected[: len(SEGMENTS)]
    assert engine._halving.halvings > 0  # type: ignore[attr-defined]


# --- registry, record and command line ------------------------------------------------------------


def test_registry_accepts_runtime_on_models_and_routes(tmp_path: Path) -> None:
    from multitrans.config.registry import RegistryError, load_registry

    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  nllb: {engine: nllb, model: facebook/nllb-200-distilled-600M, runtime: ct2}\n"
        "  opus: {engine: marian, model: Helsinki-NLP/opus-mt-en-de}\n"
        "routes:\n"
        "  - {from: en, to: de, use: [opus], runtime: transformers}\n"
        "  - {from: '*', to: '*', use: [nllb, opus]}\n"
    )
    registry = load_registry(path)
    assert registry.models["nllb"].runtime == "ct2" and registry.models["opus"].runtime == "auto"
    [first, second] = registry.candidates("en", "de")
    assert (first.name, first.runtime, first.model) == ("opus@transformers", "transformers", "Helsinki-NLP/opus-mt-en-de")
    assert (second.name, second.runtime) == ("nllb", "ct2")
    assert [s.name for s in registry.candidates("en", "fr")] == ["nllb", "opus"]
    path.write_text("models:\n  m: {engine: nllb, model: x/y, runtime: onnx}\nroutes: []\n")
    with pytest.raises(RegistryError, match=r"models.yaml:2: key 'models.m.runtime': expected one of auto, ct2, transformers"):
        load_registry(path)


def test_the_record_names_the_runtime_that_ran(tmp_path: Path, tiny_dirs: dict[str, Path]) -> None:
    from multitrans.api import parse_document, translate_documents
    from multitrans.config.registry import load_registry

    path = tmp_path / "models.yaml"
    path.write_text(
        f"models:\n  m: {{engine: nllb, model: {tiny_dirs['nllb']}, runtime: ct2}}\n"
        f"  t: {{engine: nllb, model: {tiny_dirs['nllb']}, runtime: transformers}}\n"
        "routes:\n  - {from: nb, to: de, use: [m]}\n  - {from: nb, to: fr, use: [t]}\n"
    )
    document = parse_document("Været i Oslo blir kaldt i morgen.\n\nRegjeringen vil legge fram et nytt forslag.\n")
    [result] = translate_documents([document], ["de", "fr"], registry=load_registry(path),
                                   options=EngineOptions(device="cpu"), source_lang="nb")
    records = result.records()
    assert {r["translations"]["de"]["runtime"] for r in records} == {"ctranslate2-int8"}
    assert {r["translations"]["fr"]["runtime"] for r in records} == {"transformers-float32"}


def test_models_convert_command(tmp_path: Path, tiny_marian_dir: Path, ct2_cache: Path) -> None:
    from typer.testing import CliRunner

    from multitrans.cli import app

    runner = CliRunner()
    registry = tmp_path / "models.yaml"
    registry.write_text(f"models:\n  tiny: {{engine: marian, model: {tiny_marian_dir}}}\n  apertium: {{engine: apertium}}\n"
                        "routes:\n  - {from: nb, to: en, use: [tiny]}\n")
    done = runner.invoke(app, ["models", "convert", "tiny", "--quantization", "float32", "--models", str(registry), "--offline"])
    assert done.exit_code == 0, done.output
    assert Path(done.stdout.strip().splitlines()[-1]) == converted_path(spec("marian", tiny_marian_dir), "float32")
    by_path = runner.invoke(app, ["models", "convert", str(tiny_marian_dir), "--quantization", "float32"])
    assert by_path.exit_code == 0 and "already converted" in by_path.output
    for args, message in (
        (["tiny", "--quantization", "int4"], "unknown quantization 'int4'"),
        (["apertium"], "nothing to convert"),
        (["no-such-model"], "neither a model in"),
    ):
        failed = runner.invoke(app, ["models", "convert", *args, "--models", str(registry)])
        assert failed.exit_code == 2 and message in failed.output and "Traceback" not in failed.output


class _Proxy:
    """Stands in for a ctranslate2.Translator (whose methods cannot be patched) with some replaced."""

    def __init__(self, wrapped: Any, **overrides: Any) -> None:
        self._wrapped = wrapped
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


def test_a_conversion_decodes_with_the_checkpoints_own_beam(tiny_dirs: dict[str, Path]) -> None:
    """The conversion keeps generation_config.json (num_beams 4, as opus-mt's), and --check foresees it."""
    from multitrans.engines.identity import expected_identity

    marian = spec("marian", tiny_dirs["marian"], runtime="ct2")
    engine = load_engine(marian, EngineOptions(device="cpu"))
    assert engine.beam == 4 and engine.identity().decoding == '{"beam":4}'
    assert expected_identity(marian, EngineOptions(device="cpu")).changes(engine.identity().as_dict()) == []
    assert load_engine(marian, EngineOptions(device="cpu", beam=1)).identity().decoding == '{"beam":1}'
