"""Fixtures the CTranslate2 and CUDA engine tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import offline_with_own_ct2_cache


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No network, and a private conversion cache for the whole module (modules that convert
    ask for it with `pytest.mark.usefixtures("isolated")`)."""
    root = tmp_path_factory.mktemp("ct2-cache")
    with pytest.MonkeyPatch.context() as patch:
        offline_with_own_ct2_cache(patch, root)
        yield root


@pytest.fixture(scope="module")
def dirs(tiny_marian_dir: Path, tiny_nllb_dir: Path) -> dict[str, Path]:
    """The tiny checkpoints by engine name."""
    return {"marian": tiny_marian_dir, "nllb": tiny_nllb_dir}
