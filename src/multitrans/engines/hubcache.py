"""Whether a Hub model is in the local cache, answered without importing the Hub client.

Importing huggingface_hub's client (`snapshot_download`, `HfApi`) costs 0.2–0.5 s, more than
everything else an Apertium run of one article does in Python.  An offline run whose routes
merely fall back past an opus-mt or NLLB model that is not here (the English header of a
Norwegian article, say) only needs "not here", and the cache's documented layout says that
much: a repository `org/name` lives in `<cache>/models--org--name/snapshots/<revision>/`.
Only that negative answer is taken from the layout; a model that may be here is still looked
up by huggingface_hub itself (hub.py), which knows revisions, refs and incomplete snapshots.
"""

from __future__ import annotations

import re
from pathlib import Path

from huggingface_hub import constants

from .base import ModelSpec

PULL_COMMAND = "multitrans models pull --to LANGS --from LANGS"

# Ids plainly of the form `name` or `org/name`; anything else is left to huggingface_hub's own
# validation (hub.py), which explains what is wrong with it.
_PLAIN_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


def surely_absent(spec: ModelSpec, cache_dir: str | None = None) -> bool:
    """True when `spec`'s model is neither a local directory nor any snapshot in the Hub cache."""
    model = spec.model
    if not model or Path(model).expanduser().is_dir() or not _PLAIN_REPO_ID.fullmatch(model):
        return False
    folder = constants.REPO_ID_SEPARATOR.join(["models", *model.split("/")])
    return not (Path(cache_dir or constants.HF_HUB_CACHE) / folder / "snapshots").is_dir()


def unavailable_message(spec: ModelSpec, why: str) -> str:
    """The one line for a model that cannot be had: what is missing and the command that fetches it."""
    return f"model {label(spec)} is not on this machine ({why}); fetch it while online with `{PULL_COMMAND}`"


def label(spec: ModelSpec) -> str:
    """The model id users will search for, plus our name for it when that differs."""
    if not spec.model or spec.model == spec.name:
        return spec.model or spec.name
    return f"{spec.model} ({spec.name})"
