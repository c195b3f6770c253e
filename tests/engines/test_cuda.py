"""The CUDA paths of both model runtimes, on the tiny checkpoints.

These run only where a CUDA GPU is present (CI has none; a developer with a GPU, or the
project's lent GPU machine, runs them with `pytest tests/engines/test_cuda.py`).  Random
weights say nothing about wording, so the tests check what CUDA changes: where the model
lives, the precision it runs in and reports, the batch budget, and that whole documents
still come back complete through the public API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from multitrans import api
from multitrans.config.registry import load_registry
from multitrans.engines import EngineOptions, load_engine
from multitrans.engines.base import OptionsError
from multitrans.engines.batching import Budget
from multitrans.engines.pool import EnginePool
from fakes import tiny_spec as spec
from samples import SEGMENTS

torch = pytest.importorskip("torch")
ctranslate2 = pytest.importorskip("ctranslate2")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("ct2_cache"),
    pytest.mark.skipif(not torch.cuda.is_available() or not ctranslate2.get_cuda_device_count(),
                       reason="needs a CUDA GPU seen by both PyTorch and CTranslate2"),
    pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses:UserWarning"),
]


@pytest.mark.parametrize("kind", ["marian", "nllb"])
def test_transformers_runs_on_the_gpu_in_half_precision(tiny_dirs: dict[str, Path], kind: str) -> None:
    engine = load_engine(spec(kind, tiny_dirs[kind], runtime="transformers"), EngineOptions(device="cuda"))
    try:
        parameter = next(engine.model.parameters())
        assert parameter.device.type == "cuda"
        assert parameter.dtype in (torch.bfloat16, torch.float16)
        assert engine.runtime == f"transformers-{str(parameter.dtype).removeprefix('torch.')}"
        out = engine.translate(list(SEGMENTS), "nb", "de")
        assert len(out) == len(SEGMENTS) and all(isinstance(text, str) for text in out)
    finally:
        engine.close()


def refused(err: OptionsError) -> None:
    """A GPU CTranslate2 cannot compute on (CUDA libraries of another major version) must stop the
    run at load with one line; then there is nothing more to check on this machine."""
    message = str(err)
    assert "--device cpu" in message and "\n" not in message
    pytest.skip(f"CTranslate2 cannot compute on this GPU, refused as it should be: {message}")


@pytest.mark.parametrize("kind", ["marian", "nllb"])
def test_ctranslate2_runs_on_the_gpu_in_int8_float16(tiny_dirs: dict[str, Path], kind: str) -> None:
    try:
        engine = load_engine(spec(kind, tiny_dirs[kind], runtime="ct2"), EngineOptions(device="cuda"))
    except OptionsError as err:
        refused(err)
    try:
        assert engine.runtime == "ctranslate2-int8_float16"
        assert engine.translator.device == "cuda"
        out = engine.translate(list(SEGMENTS), "nb", "de")
        assert len(out) == len(SEGMENTS)
    finally:
        engine.close()


def test_auto_picks_the_gpu(tiny_dirs: dict[str, Path]) -> None:
    engine = load_engine(spec("marian", tiny_dirs["marian"], runtime="transformers"), EngineOptions(device="auto"))
    try:
        assert next(engine.model.parameters()).device.type == "cuda"
    finally:
        engine.close()


def test_the_gpu_batch_budget_is_larger_than_the_cpus() -> None:
    gpu, cpu = Budget.for_device("cuda"), Budget.for_device("cpu")
    assert gpu.max_tokens > cpu.max_tokens and gpu.max_rows > cpu.max_rows


@pytest.mark.parametrize("runtime", ["transformers", "ct2"])
def test_a_document_into_several_languages_comes_back_whole_on_the_gpu(
    tmp_path: Path, tiny_dirs: dict[str, Path], article: Path, runtime: str,
) -> None:
    registry_file = tmp_path / "models.yaml"
    registry_file.write_text(
        "models:\n"
        f"  tiny-nllb: {{engine: nllb, model: '{tiny_dirs['nllb']}', runtime: {runtime}}}\n"
        "routes:\n  - {from: '*', to: '*', use: [tiny-nllb]}\n",
        encoding="utf-8",
    )
    registry = load_registry(registry_file)
    pool = EnginePool(EngineOptions(device="cuda"))
    try:
        document = api.read_document(article)
        try:
            results = api.translate_documents([document], ["de", "fr", "uk"], registry=registry, pool=pool,
                                              source_lang="nb")
        except OptionsError as err:
            refused(err)
        [result] = results
        assert sorted(result.translations) == ["de", "fr", "uk"]
        for blocks in result.translations.values():
            assert len(blocks) == len(document.blocks)
        assert not result.problems
        [engine] = pool.loaded.values()
        assert "float16" in engine.runtime or "bfloat16" in engine.runtime
    finally:
        pool.close()
