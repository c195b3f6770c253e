"""Where a model's files come from: a local directory, or the Hugging Face cache.

Only configuration, tokenizer and weight files are ever fetched: safetensors where the
model publishes them; `pytorch_model.bin` only for a model that publishes nothing else (many
opus-mt repositories), which is then loaded with torch's weights-only unpickler and never
unpickled fully (see transformers_common.py).  The `.h5`, `.msgpack` and `.ot` copies of the
same weights are gigabytes we would never load, so they are never downloaded.

Nothing here may hang a run for minutes when the Hub is unreachable.
`snapshot_download` asks the Hub for the repository's files without a timeout
(huggingface_hub 2.4 passes `timeout=None` to `repo_info`), so we first probe the
Hub ourselves with a bounded request; file downloads themselves are bounded by
huggingface_hub's own `HF_HUB_ETAG_TIMEOUT`/`HF_HUB_DOWNLOAD_TIMEOUT` (10 s each
by default).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from .base import (
    EngineError,
    EngineOptions,
    ModelSpec,
    ModelUnavailable,
    UnsafeCheckpoint,
)
from .hubcache import label, unavailable_message

try:
    import httpx2 as _httpx  # huggingface_hub 2.x talks through this httpx fork
except ImportError:  # huggingface_hub 1.x talks through plain httpx
    import httpx as _httpx

ALLOW_PATTERNS = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "*.spm",
    "*.model",
    "*.safetensors",
    "*.safetensors.index.json",
]

_REFUSED_GLOBAL = re.compile(r"unsupported GLOBAL (\S+?)(?: whose|\s|$)", re.IGNORECASE)

# Fetched only for models that publish no safetensors weights.
PICKLE_PATTERNS = ["pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json"]

# Network failures that mean "the Hub could not be reached", as opposed to "the Hub said no".
_NETWORK_ERRORS: tuple[type[Exception], ...] = (_httpx.HTTPError, HfHubHTTPError, OSError)


def resolve_model_dir(spec: ModelSpec, options: EngineOptions) -> Path:
    """The directory holding the model's files, downloading them if allowed and needed."""
    local = _local_dir(spec)
    if local is not None:
        return require_weights(local, spec)
    return require_weights(_snapshot(spec, options.cache_dir, offline=options.offline), spec)


def is_present(spec: ModelSpec, cache_dir: str | None = None) -> bool:
    """Whether the model can be used without the network (local directory or cached snapshot).

    Specs without `model:` (Apertium) have nothing to look for and raise EngineError.
    """
    if _local_dir(spec) is not None:
        return True
    try:
        _cached_snapshot(_repo_id(spec), spec.revision, cache_dir)
    except LocalEntryNotFoundError:
        return False
    return True


def cached_model_dir(spec: ModelSpec, cache_dir: str | None = None) -> Path | None:
    """The model's directory when it is on this machine (a local directory or a cached hub
    snapshot), without touching the network; None otherwise."""
    try:
        local = _local_dir(spec)
        return local if local is not None else _cached_snapshot(_repo_id(spec), spec.revision, cache_dir)
    except (EngineError, LocalEntryNotFoundError):
        return None


def pull(spec: ModelSpec, cache_dir: str | None = None) -> Path:
    """Download the model into the cache (or check it is there) so later runs can be offline."""
    return resolve_model_dir(spec, EngineOptions(offline=False, cache_dir=cache_dir))


def require_weights(directory: Path, spec: ModelSpec) -> Path:
    """`directory`, when it holds weights multitrans can load: safetensors, or PyTorch `.bin`
    files (read by the weights-only unpickler)."""
    if has_safetensors(directory) or any(directory.glob("*.bin")):
        return directory
    raise EngineError(f"Model {label(spec)} has no weights in {directory} (neither model.safetensors nor "
                      "pytorch_model.bin); point `model`/`revision` in models.yaml at a complete checkpoint.")


def has_safetensors(directory: Path) -> bool:
    """Whether the checkpoint has safetensors weights, which are then the only ones loaded."""
    return any(directory.glob("*.safetensors"))


def load_options(directory: Path) -> dict[str, Any]:
    """How `from_pretrained` reads a vetted checkpoint: local files only, never remote code, and
    safetensors when it has them, else `.bin` through torch's weights-only unpickler (which
    accepts tensors and plain containers and refuses anything that would run code)."""
    return {"local_files_only": True, "trust_remote_code": False,
            "use_safetensors": has_safetensors(directory), "weights_only": True}


def unsafe_checkpoint(err: BaseException, spec: ModelSpec, directory: Path) -> UnsafeCheckpoint | None:
    """The one-line refusal for a load that failed because the weights-only unpickler met more
    than tensors; None when `err` is some other failure."""
    # torch's weights-only unpickler names the callable it refused ("unsupported GLOBAL
    # posix.system"); a file that is merely broken fails otherwise ("Unsupported operand") and
    # is reported as a broken model directory.
    found = None
    while err is not None and found is None:
        found = _REFUSED_GLOBAL.search(str(err)) if isinstance(err, pickle.UnpicklingError) else None
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    if found is None:
        return None
    files = ", ".join(sorted(p.name for p in directory.glob("*.bin"))) or "its .bin weights"
    return UnsafeCheckpoint(f"Model {label(spec)}: {files} in {directory} holds more than tensors (a pickle that "
                            f"would call {found.group(1)} when loaded); refused, nothing in it was run. Use a "
                            "checkpoint with model.safetensors, or re-save the weights from a source you trust.")


def _local_dir(spec: ModelSpec) -> Path | None:
    """A `model:` naming an existing directory is used as is; anything else is a Hub id."""
    if spec.model is None:
        raise EngineError(f"Model {spec.name} (engine {spec.engine}) has no `model:` to load or download.")
    path = Path(spec.model).expanduser()
    return path if path.is_dir() else None


def _repo_id(spec: ModelSpec) -> str:
    """The Hub id, refusing strings that are neither an existing directory nor a valid id."""
    repo_id = str(spec.model)
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise EngineError(
            f"Model {spec.name}: {repo_id!r} is neither an existing directory nor a Hugging Face model id."
        ) from err
    return repo_id


def _snapshot(spec: ModelSpec, cache_dir: str | None, offline: bool) -> Path:
    """Fetch (or find in the cache) the snapshot; every failure becomes one user-facing line.
    The `.bin` weights are fetched only when the safetensors ones turn out not to exist."""
    repo_id = _repo_id(spec)
    why_local = "offline mode" if offline else _unreachable_reason(spec, repo_id)
    if why_local is not None:
        try:
            return _cached_snapshot(repo_id, spec.revision, cache_dir, [*ALLOW_PATTERNS, *PICKLE_PATTERNS])
        except LocalEntryNotFoundError as err:
            raise ModelUnavailable(unavailable_message(spec, why_local)) from err
    try:
        directory = Path(_download(spec, repo_id, cache_dir, ALLOW_PATTERNS))
        if not has_safetensors(directory):
            directory = Path(_download(spec, repo_id, cache_dir, [*ALLOW_PATTERNS, *PICKLE_PATTERNS]))
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise _not_on_hub(spec, err) from err
    except _NETWORK_ERRORS as err:
        raise ModelUnavailable(unavailable_message(spec, f"the download failed ({_brief(err)})")) from err
    return directory


def _download(spec: ModelSpec, repo_id: str, cache_dir: str | None, patterns: list[str]) -> str:
    return snapshot_download(repo_id, revision=spec.revision, cache_dir=cache_dir, allow_patterns=patterns,
                             etag_timeout=constants.HF_HUB_ETAG_TIMEOUT)


def _cached_snapshot(
    repo_id: str, revision: str | None, cache_dir: str | None, patterns: list[str] = ALLOW_PATTERNS
) -> Path:
    directory = snapshot_download(
        repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True, allow_patterns=patterns
    )
    return Path(directory)


def _unreachable_reason(spec: ModelSpec, repo_id: str) -> str | None:
    """Probe the Hub with a bounded timeout; None when it answers, else why it did not.

    The reason is kept, not dropped: it ends up in the ModelUnavailable message when the
    model is not cached either.
    """
    try:
        HfApi().repo_info(repo_id, revision=spec.revision, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise _not_on_hub(spec, err) from err
    except _NETWORK_ERRORS as err:
        return f"the Hugging Face Hub is unreachable: {_brief(err)}"
    return None


def _not_on_hub(spec: ModelSpec, err: Exception) -> EngineError:
    revision = f" at revision {spec.revision}" if spec.revision else ""
    if isinstance(err, GatedRepoError):
        return EngineError(
            f"Model {label(spec)} is gated on the Hugging Face Hub; accept its terms and log in with `hf auth login`."
        )
    return EngineError(
        f"The Hugging Face Hub has no model {spec.model}{revision} (or it is private); check models.yaml."
    )


def _brief(err: Exception) -> str:
    """The first line of an error: huggingface_hub messages run to paragraphs."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
