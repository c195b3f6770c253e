"""Where a model's files come from: a local directory, or the Hugging Face cache.

Only configuration, tokenizer and safetensors files are ever fetched: the `.bin`,
`.h5` and `.ot` copies of the same weights are gigabytes we would never load
(pickles can run code when unpickled), so they are neither downloaded nor accepted,
unless the user passes --allow-pickle for a model that has no safetensors weights.

Nothing here may hang a run for minutes when the Hub is unreachable.
`snapshot_download` asks the Hub for the repository's files without a timeout
(huggingface_hub 2.4 passes `timeout=None` to `repo_info`), so we first probe the
Hub ourselves with a bounded request; file downloads themselves are bounded by
huggingface_hub's own `HF_HUB_ETAG_TIMEOUT`/`HF_HUB_DOWNLOAD_TIMEOUT` (10 s each
by default).
"""

from __future__ import annotations

from pathlib import Path

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

from .base import EngineError, EngineOptions, ModelSpec, ModelUnavailable

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

# Fetched only with --allow-pickle, for models that publish no safetensors weights.
PICKLE_PATTERNS = ["pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json"]

PULL_COMMAND = "multitrans models pull --to LANGS --from LANGS"

# Network failures that mean "the Hub could not be reached", as opposed to "the Hub said no".
_NETWORK_ERRORS: tuple[type[Exception], ...] = (_httpx.HTTPError, HfHubHTTPError, OSError)


def resolve_model_dir(spec: ModelSpec, options: EngineOptions) -> Path:
    """The directory holding the model's files, downloading them if allowed and needed."""
    local = _local_dir(spec)
    if local is not None:
        return require_safetensors(local, spec, options.allow_pickle)
    directory = _snapshot(spec, options.cache_dir, offline=options.offline, allow_pickle=options.allow_pickle)
    return require_safetensors(directory, spec, options.allow_pickle)


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


def pull(spec: ModelSpec, cache_dir: str | None = None) -> Path:
    """Download the model into the cache (or check it is there) so later runs can be offline."""
    return resolve_model_dir(spec, EngineOptions(offline=False, cache_dir=cache_dir))


def require_safetensors(directory: Path, spec: ModelSpec, allow_pickle: bool = False) -> Path:
    """Refuse checkpoints whose weights exist only as pickles, which can execute code when loaded,
    unless the user vouched for them with --allow-pickle."""
    if any(directory.glob("*.safetensors")):
        return directory
    pickles = sorted(p.name for p in directory.glob("*.bin"))
    if pickles and allow_pickle:
        return directory
    found = f"only {', '.join(pickles)}" if pickles else "no weights at all"
    advice = (
        "multitrans loads pickled .bin checkpoints only with --allow-pickle (do that only for a model you trust), "
        "or point `model`/`revision` in models.yaml at one with model.safetensors."
        if pickles else "point `model`/`revision` in models.yaml at one with model.safetensors."
    )
    raise EngineError(f"Model {_label(spec)} has no safetensors weights in {directory} ({found}); {advice}")


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


def _snapshot(spec: ModelSpec, cache_dir: str | None, offline: bool, allow_pickle: bool = False) -> Path:
    """Fetch (or find in the cache) the snapshot; every failure becomes one user-facing line."""
    repo_id = _repo_id(spec)
    why_local = "offline mode" if offline else _unreachable_reason(spec, repo_id)
    patterns = [*ALLOW_PATTERNS, *PICKLE_PATTERNS] if allow_pickle else ALLOW_PATTERNS
    if why_local is not None:
        try:
            return _cached_snapshot(repo_id, spec.revision, cache_dir, patterns)
        except LocalEntryNotFoundError as err:
            raise ModelUnavailable(_unavailable_message(spec, why_local)) from err
    try:
        directory = snapshot_download(
            repo_id,
            revision=spec.revision,
            cache_dir=cache_dir,
            allow_patterns=patterns,
            etag_timeout=constants.HF_HUB_ETAG_TIMEOUT,
        )
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise _not_on_hub(spec, err) from err
    except _NETWORK_ERRORS as err:
        raise ModelUnavailable(_unavailable_message(spec, f"the download failed ({_brief(err)})")) from err
    return Path(directory)


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
            f"Model {_label(spec)} is gated on the Hugging Face Hub; accept its terms and log in with `hf auth login`."
        )
    return EngineError(
        f"The Hugging Face Hub has no model {spec.model}{revision} (or it is private); check models.yaml."
    )


def _unavailable_message(spec: ModelSpec, why: str) -> str:
    return (
        f"model {_label(spec)} is not on this machine ({why}); "
        f"fetch it while online with `{PULL_COMMAND}`"
    )


def _label(spec: ModelSpec) -> str:
    """The model id users will search for, plus our name for it when that differs."""
    if not spec.model or spec.model == spec.name:
        return spec.model or spec.name
    return f"{spec.model} ({spec.name})"


def _brief(err: Exception) -> str:
    """The first line of an error: huggingface_hub messages run to paragraphs."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
