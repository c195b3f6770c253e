"""Converting configured models to CTranslate2, and finding the converted copies again.

`multitrans models convert MODEL --quantization int8` turns a Marian or NLLB checkpoint
(hub id or local directory) into a CTranslate2 model directory, which then serves the
model's routes several times faster on CPU than transformers does (README, Performance).

Converted models live next to the Hugging Face cache (`~/.cache/huggingface/multitrans-ct2`,
or `$MULTITRANS_CT2_CACHE`), one directory per model id, revision and quantization:

    multitrans-ct2/Helsinki-NLP--opus-mt-en-de/main/int8/
        model.bin, config.json, shared_vocabulary.json   CTranslate2's own files
        hf/                                              the checkpoint's config, generation
                                                         config and tokenizer files
        multitrans.json                                  what was converted, from which commit

so a converted model translates on its own, offline, even after the original weights are
deleted.  A local directory has no revision; it is keyed by a fingerprint of its files,
so rebuilding the checkpoint in place never serves a stale conversion.  A conversion is
written to a temporary directory and renamed into place, so an interrupted one is never
mistaken for a finished one.

Importing this module is cheap: torch, transformers and the converter load only when a
conversion actually runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import EngineError, EngineOptions, ModelSpec
from ..errors import UserError
from ..output import staged_dir

QUANTIZATIONS = ("int8", "int8_float16", "float16", "float32")
# Which stored quantization a device prefers when several were converted.
PREFERENCE = {
    "cpu": ("int8", "int8_float16", "float32", "float16"),
    "cuda": ("int8_float16", "float16", "int8", "float32"),
}
# What each stored quantization computes in, per device: int8 GEMMs on CPU (float16 has no
# fast CPU kernels), half precision on GPUs.
COMPUTE_TYPES = {
    "cpu": {"int8": "int8", "int8_float16": "int8", "float16": "float32", "float32": "float32"},
    "cuda": {"int8": "int8_float16", "int8_float16": "int8_float16", "float16": "float16", "float32": "float16"},
}
METADATA = "multitrans.json"
HF_FILES = "hf"
# Weight files never copied into hf/: CTranslate2's model.bin replaces them.
_WEIGHTS = re.compile(r".*\.(safetensors|bin|h5|msgpack|ot|pt|pth)$|.*\.index\.json$")


class ConversionError(EngineError):
    """A model could not be converted; the message is meant for the user."""


def cache_root(cache_dir: str | None = None) -> Path:
    """Where converted models live: `$MULTITRANS_CT2_CACHE`, else beside the Hugging Face hub cache."""
    override = os.environ.get("MULTITRANS_CT2_CACHE", "").strip()
    if override:
        return Path(override).expanduser()
    if cache_dir:
        return Path(cache_dir).expanduser().parent / "multitrans-ct2"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).expanduser().parent / "multitrans-ct2"


def model_dir_key(spec: ModelSpec) -> tuple[str, str]:
    """(model part, revision part) of a model's place in the cache."""
    if not spec.model:
        raise ConversionError(f"Model {spec.name} (engine {spec.engine}) has no `model:` to convert.")
    local = Path(spec.model).expanduser()
    if local.is_dir():
        resolved = local.resolve()
        where = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
        return f"local--{_safe(resolved.name)}-{where}", fingerprint(resolved)
    return _safe(spec.model.replace("/", "--")), _safe((spec.revision or "main").replace("/", "--"))


def fingerprint(directory: Path) -> str:
    """Names, sizes and modification times of a directory's files: cheap, and any rebuild changes it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def converted_path(spec: ModelSpec, quantization: str, root: Path | None = None) -> Path:
    """Where `spec` converted with `quantization` is (or would be) stored."""
    check_quantization(quantization)
    name, revision = model_dir_key(spec)
    return (root or cache_root()) / name / revision / quantization


def find_converted(spec: ModelSpec, device: str, root: Path | None = None) -> Path | None:
    """The finished conversion of `spec` this device prefers, or None when there is none."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    for quantization in PREFERENCE[kind]:
        path = converted_path(spec, quantization, root)
        if is_converted(path):
            return path
    return None


def is_converted(path: Path) -> bool:
    """A conversion is finished when its metadata, written last, is there."""
    return (path / METADATA).is_file() and (path / "model.bin").is_file()


def read_metadata(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EngineError(f"{path} is not a finished multitrans conversion ({err}); convert the model again.") from err


def check_quantization(quantization: str) -> str:
    if quantization not in QUANTIZATIONS:
        raise UserError(f"unknown quantization {quantization!r}; use one of {', '.join(QUANTIZATIONS)}")
    return quantization


def convert_model(
    spec: ModelSpec,
    quantization: str = "int8",
    *,
    options: EngineOptions | None = None,
    root: Path | None = None,
    force: bool = False,
    say: Callable[[str], None] | None = None,
) -> Path:
    """Convert `spec` to CTranslate2 with `quantization`; returns the converted directory.

    An existing conversion of the same commit (or the same local files) is kept unless
    `force`.  The checkpoint is fetched first if it is not on the machine and `options`
    allow the network.
    """
    from .hub import resolve_model_dir

    check_quantization(quantization)
    options = options or EngineOptions()
    target = converted_path(spec, quantization, root or cache_root(options.cache_dir))
    source = resolve_model_dir(spec, options)
    origin = _origin(spec, source)
    if is_converted(target) and not force and read_metadata(target).get("origin") == origin:
        if say:
            say(f"{spec.name}: already converted ({quantization}) in {target}")
        return target
    if say:
        say(f"{spec.name}: converting {source} to CTranslate2 {quantization}…")
    with staged_dir(target, quantization) as staging:
        _run_converter(spec, source, staging, quantization)
        hf = staging / HF_FILES
        hf.mkdir()
        for path in sorted(source.iterdir()):
            if path.is_file() and not _WEIGHTS.match(path.name):
                shutil.copy2(path, hf / path.name)  # follows the hub cache's symlinks to the blobs
        metadata = {
            "name": spec.name,
            "model": spec.model,
            "revision": spec.revision,
            "origin": origin,
            "quantization": quantization,
            "ctranslate2": _ct2_version(),
        }
        (staging / METADATA).write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
    return target


def _origin(spec: ModelSpec, source: Path) -> str:
    """What exactly was converted: the hub commit (the snapshot directory is named after it)
    or the local directory's fingerprint."""
    local = Path(spec.model or "").expanduser()
    if local.is_dir():
        return f"local:{local.resolve()}@{fingerprint(local.resolve())}"
    return f"hub:{spec.model}@{source.name}"


def _run_converter(spec: ModelSpec, source: Path, output: Path, quantization: str) -> None:
    """CTranslate2's converter, loading the checkpoint the way multitrans does (`hub.load_options`:
    local files only, no remote code, safetensors when present, else the weights-only unpickler)."""
    from ctranslate2.converters import TransformersConverter
    from transformers.utils import logging as hf_logging

    from .hub import load_options, unsafe_checkpoint

    hf_logging.disable_progress_bar()

    class Converter(TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            return model_class.from_pretrained(model_name_or_path, **{**kwargs, **load_options(source)})

        def load_tokenizer(self, tokenizer_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            return tokenizer_class.from_pretrained(model_name_or_path, local_files_only=True,
                                                   trust_remote_code=False, **kwargs)

    try:
        Converter(str(source)).convert(str(output), quantization=quantization, force=True)
    except (ValueError, OSError, RuntimeError, NotImplementedError, pickle.UnpicklingError) as err:
        unsafe = unsafe_checkpoint(err, spec, source)
        if unsafe is not None:
            raise unsafe from err
        raise ConversionError(f"Model {spec.name} ({source}) could not be converted to CTranslate2: "
                              f"{type(err).__name__}: {err}") from err


def _ct2_version() -> str:
    import ctranslate2

    return ctranslate2.__version__


def _safe(text: str) -> str:
    """A path component: no separators, no leading dots."""
    return re.sub(r"[^\w.@+-]", "_", text).lstrip(".") or "_"


def spec_for(model: str, registry: Any, revision: str | None = None) -> ModelSpec:
    """The spec `models convert MODEL` means: a registry name, else a hub id or local directory."""
    if model in registry.models:
        spec = registry.models[model]
        if spec.engine == "apertium":
            raise UserError(f"{model} is Apertium, a rule-based engine: there is nothing to convert")
        if revision:
            from dataclasses import replace

            spec = replace(spec, revision=revision)
        return spec
    path = Path(model).expanduser()
    if path.is_dir():
        return ModelSpec(name=path.name, engine=_engine_of(path), model=str(path.resolve()))
    if "/" not in model:
        known = ", ".join(n for n, s in registry.models.items() if s.engine != "apertium")
        raise UserError(f"{model!r} is neither a model in {registry.path} ({known}), a directory, nor a hub id")
    return ModelSpec(name=model, engine="unknown", model=model, revision=revision)


def _engine_of(path: Path) -> str:
    try:
        model_type = json.loads((path / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return "unknown"
    return {"marian": "marian", "m2m_100": "nllb"}.get(model_type, "unknown")
