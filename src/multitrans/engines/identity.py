"""What produced a translation: an engine's identity, and the identity it would have now.

Every place that must say which engine configuration wrote a sentence uses this one
description: the translation memory keys on it (memory/store.py), the batch manifest
records it for each route and `batch --check` compares it (archive/manifest.py), and XLIFF
and TMX carry its fields (interchange/).  A loaded engine states its own
(`Engine.identity()`, engines/base.py); `expected_identity` predicts it from models.yaml,
the run's options and the CTranslate2 conversion cache, without loading the model or
importing torch, so that `--check` stays instant.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import EngineOptions, ModelSpec

TRANSFORMERS = "transformers"
CTRANSLATE2 = "ctranslate2"
# Engines whose models run on transformers unless a CTranslate2 conversion serves them (ct2.py).
CONVERTIBLE = frozenset({"marian", "nllb"})
RULE_BASED = frozenset({"apertium"})  # engines without decoding options
CT2_PACKAGED = frozenset({"argos"})  # engines whose packages are CTranslate2 models as shipped
# argos-translate decodes every package with `beam_size=max(num_hypotheses, 4)`: beam 4.
ARGOS_BEAM = 4
GENERATION_CONFIG = "generation_config.json"
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class EngineIdentity:
    """Everything about an engine that changes what it writes for a given sentence."""

    engine: str
    model: str
    revision: str = ""
    runtime: str = ""
    quantization: str = ""
    decoding: str = "{}"  # canonical JSON of the decoding options

    def key(self, src: str, tgt: str, text: str) -> bytes:
        """The memory key of `text` translated src→tgt by this engine (a SHA-256 digest)."""
        parts = (*_values(self), src, tgt, normalize(text))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()

    def as_dict(self) -> dict[str, str]:
        """The fields by name, in IDENTITY_FIELDS order (the order of the memory key)."""
        return dict(zip(IDENTITY_FIELDS, _values(self)))


IDENTITY_FIELDS = tuple(f.name for f in fields(EngineIdentity))
_values = attrgetter(*IDENTITY_FIELDS)


def normalize(text: str) -> str:
    """The form of a sentence the memory is keyed by: NFC, whitespace runs as one space, no outer space."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def decoding_json(decoding: Mapping[str, Any]) -> str:
    """Decoding options (`Engine.decoding`) as canonical JSON: `{"beam":1}` whether the beam was
    asked for or is the model's own, so memory written before the default changed still matches."""
    return json.dumps(dict(decoding), sort_keys=True, separators=(",", ":"))


def checkpoint_beam(generation: Mapping[str, Any]) -> int:
    """The beam a checkpoint's generation config asks for (`num_beams`), else 1 (greedy, as
    transformers' `generate` defaults to)."""
    beam = generation.get("num_beams")
    return beam if isinstance(beam, int) and beam > 0 else 1


def read_generation_config(model_dir: Path) -> dict[str, Any] | None:
    """A checkpoint's generation settings: generation_config.json, else config.json (where older
    checkpoints keep `num_beams`, and where transformers then reads it); {} when it has
    neither, None when one cannot be read."""
    for name in (GENERATION_CONFIG, "config.json"):
        try:
            found = json.loads((model_dir / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None
    return {}


def native_runtime(engine: str) -> str:
    """What runs an engine's models when no other runtime was chosen: transformers, CTranslate2, or the engine itself."""
    return TRANSFORMERS if engine in CONVERTIBLE else CTRANSLATE2 if engine in CT2_PACKAGED else engine


def runtime_name(runtime: str, precision: str) -> str:
    """A runtime as an identity names it when the precision the weights compute in is part of it."""
    return f"{runtime}-{precision}"


def snapshot_revision(model_dir: Path, declared: str | None) -> str:
    """The revision a model directory holds: its commit when it is a Hugging Face cache snapshot
    (which pins `revision: main` to what was actually there), else the declared one."""
    return model_dir.name if model_dir.parent.name == "snapshots" else declared or ""


@dataclass(frozen=True)
class ExpectedIdentity:
    """The identity a model would have if loaded now, as far as it can be told without loading it.

    None marks what only loading tells: the dtype transformers loads a model in (so its
    precision, and the runtime's suffix), and the snapshot a hub model resolves to under a
    branch or tag (`revision: main`).  `runtime` is then the family only ("transformers").
    Engine and model id are not predicted: they are what models.yaml names, which the
    manifest compares on its own.
    """

    revision: str | None
    runtime: str | None
    quantization: str | None
    decoding: str | None  # None: the model's own beam, in a hub checkpoint not on this machine

    def changes(self, recorded: Mapping[str, str]) -> list[str]:
        """'field recorded → expected' for each predicted field the recorded identity differs in."""
        found = []
        for name in (f.name for f in fields(self)):
            expected: str | None = getattr(self, name)
            was = recorded.get(name, "")
            if expected is not None and not self._agrees(name, was, expected):
                found.append(f"{name} {was or 'none'} → {expected or 'none'}")
        return found

    def _agrees(self, name: str, was: str, expected: str) -> bool:
        if name == "runtime" and self.quantization is None:  # the family alone: "transformers-float32" agrees
            return was == expected or was.startswith(f"{expected}-")
        return was == expected


def expected_identity(spec: ModelSpec, options: EngineOptions) -> ExpectedIdentity:
    """What `load_engine(spec, options)` would give as identity, predicted without loading.

    The runtime is chosen as `load_engine` chooses it (a CTranslate2 conversion in the cache
    serves `runtime: auto`; `runtime: ct2` would convert), so a model converted since, a
    changed `runtime:`, another stored quantization or another device is noticed; so are a
    changed beam and, for local directories and hub commits, a changed revision.  Not
    noticed: a branch such as `main` moving on the hub, and a changed transformers dtype.
    """
    from .base import EngineError

    decoding = _expected_decoding(spec, options)
    if spec.engine in CT2_PACKAGED:
        return _expected_packaged(spec, options, decoding)
    runtime: str | None = native_runtime(spec.engine)
    quantization: str | None = None
    if spec.engine in CONVERTIBLE and spec.runtime != "transformers":
        from .ct2 import expected_compute_type

        try:
            precision = expected_compute_type(spec, options)
        except EngineError:  # e.g. --device cuda without a GPU: the run itself will say so
            runtime = precision = None
        if precision is not None:
            runtime, quantization = runtime_name(CTRANSLATE2, precision), precision
    return ExpectedIdentity(_expected_revision(spec, runtime), runtime, quantization, decoding)


def _expected_decoding(spec: ModelSpec, options: EngineOptions) -> str | None:
    """The decoding a loaded engine would state (`Engine.decoding`): --beam, else the model's own
    beam as its files say (the conversion's copy of generation_config.json, the local directory,
    or the hub snapshot in the cache); None when its files are not on this machine."""
    if spec.engine in RULE_BASED:
        return decoding_json({})
    beam = options.beam or _expected_default_beam(spec, options)
    return None if beam is None else decoding_json({"beam": beam})


def _expected_default_beam(spec: ModelSpec, options: EngineOptions) -> int | None:
    if spec.engine in CT2_PACKAGED:
        return ARGOS_BEAM
    if spec.engine not in CONVERTIBLE:
        return 1
    from .base import EngineError
    from .convert import HF_FILES
    from .ct2 import choose_conversion
    from .hubcache import surely_absent

    try:
        conversion = choose_conversion(spec, options)
    except EngineError:
        conversion = None
    converted = conversion[0] / HF_FILES if conversion and conversion[0] else None
    cached = None
    if not surely_absent(spec, options.cache_dir):  # the Hub client's import is the cost of looking
        from .hub import cached_model_dir

        cached = cached_model_dir(spec, options.cache_dir)
    for directory in (converted, cached):
        generation = read_generation_config(directory) if directory is not None else None
        if generation is not None:
            return checkpoint_beam(generation)
    return None


def _expected_revision(spec: ModelSpec, runtime: str | None) -> str | None:
    if spec.engine not in CONVERTIBLE or (runtime or "").startswith(CTRANSLATE2):
        return spec.revision or ""
    if runtime is None or not spec.model:
        return None
    local = Path(spec.model).expanduser()
    if local.is_dir():
        return snapshot_revision(local, spec.revision)
    return spec.revision if spec.revision and _COMMIT.fullmatch(spec.revision) else None


def _expected_packaged(spec: ModelSpec, options: EngineOptions, decoding: str) -> ExpectedIdentity:
    """An Argos package: its version from its metadata (read, not unpacked) and int8 as shipped."""
    from .argos import expected_runtime, peek_package
    from .base import EngineError

    try:
        package = peek_package(spec)
        precision: str | None = expected_runtime(options)
    except EngineError:  # a broken package or --device cuda without a GPU: the run itself will say so
        package, precision = None, None
    runtime = runtime_name(CTRANSLATE2, precision) if precision else None
    return ExpectedIdentity(package.version if package else None, runtime, precision, decoding)
