"""MarianMT and NLLB engines, and model-file resolution, on tiny real checkpoints.

Everything runs offline: the checkpoints are built by the conftest fixtures, and the
Hub is switched off for the whole module, so a test that tried the network would fail
rather than hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import pytest

from multitrans.engines import Engine, EngineError, EngineOptions, ModelSpec, ModelUnavailable, load_engine
from multitrans.engines import hub
from samples import ROOT, SEGMENTS

NB = "Nord-Korea har levert mer enn 1.000 containere til Russland, ifølge Det hvite hus’ talsmann."
EN = "North Korea has delivered more than 1,000 containers to Russia, according to the White House."
MISSING_REPO = "Helsinki-NLP/opus-mt-nb-xx-not-cached"

# MarianTokenizer asks for sacremoses on every load; whether to depend on it is not this file's concern.
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses:UserWarning")


@pytest.fixture(scope="module", autouse=True)
def offline_hub() -> Iterator[None]:
    """huggingface_hub reads HF_HUB_OFFLINE once at import, so patch its constant as well."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        yield


def marian_spec(directory: Path, **fields: Any) -> ModelSpec:
    return ModelSpec(name="tiny-marian", engine="marian", model=str(directory), target_token=">>{code}<<", **fields)


def nllb_spec(directory: Path, **fields: Any) -> ModelSpec:
    return ModelSpec(name="tiny-nllb", engine="nllb", model=str(directory), **fields)


@pytest.fixture(scope="module")
def marian(tiny_marian_dir: Path) -> Engine:
    return load_engine(marian_spec(tiny_marian_dir), EngineOptions(device="cpu", batch_size=3))


@pytest.fixture(scope="module")
def nllb(tiny_nllb_dir: Path) -> Engine:
    return load_engine(nllb_spec(tiny_nllb_dir), EngineOptions(device="cpu", batch_size=3))


def spy_generate(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what `translate` hands to model.generate and what comes back."""
    calls: list[dict[str, Any]] = []
    real: Callable[..., Any] = engine.model.generate  # type: ignore[attr-defined]

    def generate(**kwargs: Any) -> Any:
        output = real(**kwargs)
        calls.append({"input_ids": kwargs.get("input_ids"), "kwargs": kwargs, "output": output})
        return output

    monkeypatch.setattr(engine.model, "generate", generate)  # type: ignore[attr-defined]
    return calls


# --- the tiny checkpoints ---------------------------------------------------------------


@pytest.mark.slow
def test_marian_tokenizers_round_trip_without_unk(tiny_marian_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_marian_dir)
    source_ids = tokenizer(NB)["input_ids"]
    target_ids = tokenizer(text_target=EN)["input_ids"]
    for ids, text in ((source_ids, NB), (target_ids, EN)):
        assert tokenizer.unk_token_id not in ids
        assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert {">>de<<", ">>fr<<", ">>uk<<"} <= set(tokenizer.get_vocab())


@pytest.mark.slow
def test_nllb_tokenizer_round_trips_and_has_flores_tokens(tiny_nllb_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_nllb_dir)
    for text in (NB, EN):
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.unk_token_id not in ids
        assert tokenizer.decode(ids, skip_special_tokens=True) == text
    flores = [tokenizer.convert_tokens_to_ids(code) for code in ("nob_Latn", "eng_Latn", "deu_Latn", "ukr_Cyrl")]
    assert tokenizer.unk_token_id not in flores
    assert len(set(flores)) == len(flores)
    assert tokenizer.pad_token_id == 1  # beyond M2M100's position table it would crash


@pytest.mark.slow
def test_tiny_build_is_deterministic_and_safetensors_only(
    tiny_models_script: Any, tiny_marian_dir: Path, tmp_path: Path
) -> None:
    again = tiny_models_script.build_tiny_marian(tmp_path / "again")
    assert (again / "model.safetensors").read_bytes() == (tiny_marian_dir / "model.safetensors").read_bytes()
    assert not list(tiny_marian_dir.glob("*.bin"))


# --- translation ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("engine_name", "tgt"), [("marian", "de"), ("nllb", "de"), ("nllb", "uk")])
def test_translate_one_string_per_input_in_order_deterministically(
    engine_name: str, tgt: str, request: pytest.FixtureRequest
) -> None:
    engine: Engine = request.getfixturevalue(engine_name)
    first = engine.translate(SEGMENTS, "nb", tgt)
    assert len(first) == len(SEGMENTS) and all(isinstance(text, str) for text in first)
    assert first[SEGMENTS.index("")] == ""
    assert engine.translate(SEGMENTS, "nb", tgt) == first
    # The tiny models' outputs differ per input, so any reordering across the length-sorted
    # batches would show; each output must also not depend on its batch-mates.
    assert len(set(first)) > len(SEGMENTS) // 2
    assert [engine.translate([text], "nb", tgt)[0] for text in SEGMENTS] == first


@pytest.mark.slow
def test_beam_search_keeps_order_and_batch_independence(tiny_marian_dir: Path) -> None:
    engine = load_engine(marian_spec(tiny_marian_dir), EngineOptions(device="cpu", batch_size=4, beam=3))
    batched = engine.translate(SEGMENTS, "nb", "fr")
    assert batched == [engine.translate([text], "nb", "fr")[0] for text in SEGMENTS]


@pytest.mark.slow
def test_translate_nothing_is_nothing(marian: Engine) -> None:
    assert marian.translate([], "nb", "de") == []
    assert marian.translate(["  "], "nb", "de") == [""]


@pytest.mark.slow
def test_marian_puts_target_token_in_input_ids(marian: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_generate(marian, monkeypatch)
    marian.translate(SEGMENTS, "nb", "de")
    de_id = marian.tokenizer.convert_tokens_to_ids(">>de<<")  # type: ignore[attr-defined]
    rows = [row for call in calls for row in call["input_ids"].tolist()]
    assert len(rows) == len([s for s in SEGMENTS if s.strip()])
    assert all(row[0] == de_id for row in rows)


@pytest.mark.slow
def test_marian_target_codes_map_our_code_to_the_models(tiny_marian_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = load_engine(marian_spec(tiny_marian_dir, target_codes={"ua": "uk"}), EngineOptions(device="cpu"))
    calls = spy_generate(engine, monkeypatch)
    engine.translate(["Hei."], "nb", "ua")
    uk_id = engine.tokenizer.convert_tokens_to_ids(">>uk<<")  # type: ignore[attr-defined]
    assert calls[0]["input_ids"][0, 0].item() == uk_id


@pytest.mark.slow
def test_marian_refuses_a_target_token_the_model_lacks(marian: Engine) -> None:
    marian.check("nb", "de")
    with pytest.raises(ModelUnavailable, match=r">>es<<.*>>de<<"):
        marian.check("nb", "es")
    with pytest.raises(ModelUnavailable, match=r">>es<<"):
        marian.translate(["Hei."], "nb", "es")


@pytest.mark.slow
def test_nllb_sets_source_token_and_forces_target_bos(nllb: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The source language is the first input token; the target language is the first token
    after the decoder start, given as each row's decoder prefix (so one batch may mix targets)."""
    calls = spy_generate(nllb, monkeypatch)
    encoded: list[Any] = []
    encoder = nllb.model.get_encoder()  # type: ignore[attr-defined]

    def encode(**kwargs: Any) -> Any:
        encoded.append(kwargs["input_ids"])
        return encoder(**kwargs)

    monkeypatch.setattr(nllb.model, "get_encoder", lambda: encode)  # type: ignore[attr-defined]
    nllb.translate(SEGMENTS, "nb", "de")
    tokenizer = nllb.tokenizer  # type: ignore[attr-defined]
    nob, deu = tokenizer.convert_tokens_to_ids("nob_Latn"), tokenizer.convert_tokens_to_ids("deu_Latn")
    assert sum(len(ids) for ids in encoded) == len([s for s in SEGMENTS if s.strip()])
    assert all((ids[:, 0] == nob).all() for ids in encoded)
    assert calls
    for call in calls:
        assert (call["kwargs"]["decoder_input_ids"][:, 1] == deu).all()
        # position 0 is the decoder start (</s>); the first generated token is the language
        assert (call["output"][:, 1] == deu).all()


@pytest.mark.slow
def test_nllb_refuses_unknown_language(nllb: Engine) -> None:
    nllb.check("nb", "uk")
    with pytest.raises(ModelUnavailable, match="not-a-language"):
        nllb.check("not-a-language", "de")
    with pytest.raises(ModelUnavailable, match="not-a-language"):
        nllb.translate(["Hei."], "nb", "not-a-language")


# --- limits and token counts --------------------------------------------------------------


@pytest.mark.slow
def test_count_tokens_uses_the_real_tokenizer(marian: Engine, nllb: Engine) -> None:
    for engine in (marian, nllb):
        counts = engine.count_tokens(SEGMENTS)
        assert len(counts) == len(SEGMENTS) and all(n > 0 for n in counts)
        assert counts[0] > len(SEGMENTS[0].split())  # subwords, not words
    # the >>xx<< prefix takes a position too
    plain = marian.tokenizer(["Hei."])["input_ids"][0]  # type: ignore[attr-defined]
    assert marian.count_tokens(["Hei."]) == [len(plain) + 1]


@pytest.mark.slow
def test_max_input_tokens_from_model_or_spec(marian: Engine, nllb: Engine, tiny_marian_dir: Path) -> None:
    from multitrans.engines.vocabulary import model_token_limit

    assert marian.max_input_tokens == 512
    assert nllb.max_input_tokens == 1024
    engine = load_engine(marian_spec(tiny_marian_dir, max_input_tokens=200), EngineOptions(device="cpu"))
    assert engine.max_input_tokens == 200
    assert model_token_limit(int(1e30), 1024) == 1024  # tokenizer without a configured limit
    assert model_token_limit(None, None) is None


@pytest.mark.slow
def test_overlong_segment_is_refused_not_truncated(marian: Engine) -> None:
    with pytest.raises(EngineError, match="split"):
        marian.translate(["Hei på deg. " * 300], "nb", "de")


# --- loading and model files --------------------------------------------------------------


def test_unknown_engine_name_lists_known_ones() -> None:
    with pytest.raises(EngineError, match="apertium, argos, marian, nllb"):
        load_engine(ModelSpec(name="x", engine="moses", model="x/y"), EngineOptions())


def test_device_choice_is_checked_before_loading(tmp_path: Path) -> None:
    import torch

    (tmp_path / "model.safetensors").write_bytes(b"")  # never read: the device check comes first
    with pytest.raises(EngineError, match="auto, cpu or cuda"):
        load_engine(marian_spec(tmp_path), EngineOptions(device="tpu"))
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="CUDA"):
            load_engine(marian_spec(tmp_path), EngineOptions(device="cuda"))


def test_offline_uncached_hub_model_is_unavailable_with_the_fix(tmp_path: Path) -> None:
    spec = ModelSpec(name="opus-mt-nb-xx", engine="marian", model=MISSING_REPO)
    options = EngineOptions(offline=True, cache_dir=str(tmp_path))
    with pytest.raises(ModelUnavailable) as caught:
        load_engine(spec, options)
    message = str(caught.value)
    assert MISSING_REPO in message and "multitrans models pull" in message
    assert "\n" not in message
    assert not hub.is_present(spec, cache_dir=str(tmp_path))


def test_unreachable_hub_is_unavailable_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class DownHub:
        def repo_info(self, *args: Any, **kwargs: Any) -> None:
            assert kwargs.get("timeout"), "the probe must be bounded"
            raise hub._httpx.ConnectError("Name or service not known")

    monkeypatch.setattr(hub, "HfApi", DownHub)
    spec = ModelSpec(name="opus-mt-nb-xx", engine="marian", model=MISSING_REPO)
    with pytest.raises(ModelUnavailable, match=r"Hub is unreachable.*multitrans models pull"):
        hub.pull(spec, cache_dir=str(tmp_path))


@pytest.mark.slow
def test_cached_hub_snapshot_serves_offline(tiny_marian_dir: Path, tmp_path: Path) -> None:
    """The standard HF cache layout (refs/main -> snapshots/<commit>) is what `pull` leaves."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = tmp_path / "models--acme--tiny-marian"
    shutil.copytree(tiny_marian_dir, repo_dir / "snapshots" / commit)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    spec = marian_spec(Path("acme/tiny-marian"))
    assert hub.is_present(spec, cache_dir=str(tmp_path))
    engine = load_engine(spec, EngineOptions(device="cpu", offline=True, cache_dir=str(tmp_path)))
    assert engine.model_dir == repo_dir / "snapshots" / commit  # type: ignore[attr-defined]
    assert len(engine.translate(["Hei."], "nb", "de")) == 1


def test_a_checkpoint_without_weights_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "marian"}')
    with pytest.raises(EngineError, match=r"no weights .*neither model\.safetensors nor pytorch_model\.bin") as caught:
        load_engine(marian_spec(tmp_path), EngineOptions(device="cpu"))
    assert not isinstance(caught.value, ModelUnavailable)


def test_bin_weights_are_read_only_by_the_weights_only_unpickler(tmp_path: Path, monkeypatch) -> None:
    """Safetensors when present; else `.bin` through torch's weights-only unpickler; never remote code."""
    from multitrans.engines.hub import load_options

    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    assert load_options(tmp_path) == {"local_files_only": True, "trust_remote_code": False,
                                      "use_safetensors": False, "weights_only": True}
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert load_options(tmp_path)["use_safetensors"] is True


def test_importing_engines_does_not_import_torch() -> None:
    code = "import sys, multitrans.engines, multitrans.engines.hub; sys.exit('torch' in sys.modules)"
    src = str(ROOT / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


def test_the_default_beam_is_the_checkpoints_own_and_check_foresees_it(tiny_marian_dir: Path, tmp_path: Path) -> None:
    """opus-mt checkpoints (and the tiny one, which mirrors them) say num_beams 4; --beam overrides.
    A checkpoint that says nothing decodes greedily, with the identity (memory key) it always had."""
    import json

    from multitrans.engines.identity import expected_identity

    plain = tmp_path / "plain"
    shutil.copytree(tiny_marian_dir, plain)
    config = json.loads((plain / "generation_config.json").read_text())
    del config["num_beams"]
    (plain / "generation_config.json").write_text(json.dumps(config))
    for directory, options, beam in ((tiny_marian_dir, EngineOptions(device="cpu"), 4),
                                     (tiny_marian_dir, EngineOptions(device="cpu", beam=1), 1),
                                     (plain, EngineOptions(device="cpu"), 1)):
        spec = marian_spec(directory, runtime="transformers")
        engine = load_engine(spec, options)
        assert engine.beam == beam and engine.identity().decoding == f'{{"beam":{beam}}}'
        assert expected_identity(spec, options).changes(engine.identity().as_dict()) == []


def test_a_broken_bin_is_a_broken_model_not_a_hostile_one(tiny_marian_dir: Path, tmp_path: Path) -> None:
    from multitrans.engines.base import UnsafeCheckpoint

    broken = tmp_path / "broken"
    shutil.copytree(tiny_marian_dir, broken)
    (broken / "model.safetensors").unlink()
    (broken / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(EngineError, match="could not be loaded") as caught:
        load_engine(marian_spec(broken, runtime="transformers"), EngineOptions(device="cpu"))
    assert not isinstance(caught.value, UnsafeCheckpoint)
