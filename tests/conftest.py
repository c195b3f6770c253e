"""Shared pytest fixtures.

Tiny model checkpoints are built once per session from scripts/make_tiny_models.py,
the same script a user can run, so the engines are tested through their real loading
code without the network.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

_ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _tiny_models_script() -> ModuleType:
    """scripts/ is not a package; load the script from its path as the tests' docs promise."""
    path = _ROOT / "scripts" / "make_tiny_models.py"
    spec = importlib.util.spec_from_file_location("make_tiny_models", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_models_script() -> ModuleType:
    """The builder module, for tests that need a fresh build (e.g. to check determinism)."""
    return _tiny_models_script()


@pytest.fixture(scope="session")
def tiny_marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Norwegian→English opus-mt-style checkpoint with >>de<<, >>fr<<, >>uk<< tokens."""
    return _tiny_models_script().build_tiny_marian(tmp_path_factory.mktemp("tiny-marian"))


@pytest.fixture(scope="session")
def tiny_nllb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NLLB-200-style checkpoint with the FLORES-200 language tokens."""
    return _tiny_models_script().build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"))


@pytest.fixture(scope="module")
def tiny_dirs(tiny_marian_dir: Path, tiny_nllb_dir: Path) -> dict[str, Path]:
    """The tiny checkpoints by engine name."""
    return {"marian": tiny_marian_dir, "nllb": tiny_nllb_dir}


@pytest.fixture(scope="module")
def ct2_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No network, and a private CTranslate2 conversion cache for the whole module (modules
    that convert ask for it with `pytest.mark.usefixtures("ct2_cache")`)."""
    from fakes import offline_with_own_ct2_cache

    root = tmp_path_factory.mktemp("ct2-cache")
    with pytest.MonkeyPatch.context() as patch:
        offline_with_own_ct2_cache(patch, root)
        yield root


@pytest.fixture(scope="session")
def tiny_registry(tiny_marian_dir: Path, tiny_nllb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny models' registry (the one the script writes), pointing at this session's checkpoints."""
    text = _tiny_models_script().TINY_REGISTRY
    text = text.replace("./tiny-marian", str(tiny_marian_dir)).replace("./tiny-nllb", str(tiny_nllb_dir))
    path = tmp_path_factory.mktemp("registry") / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def article() -> Path:
    """The real sample article (Norwegian Bokmål with English header and footer lines)."""
    return _ROOT / "examples" / "em24-2023-10-16-nord-korea-ammunisjon.txt"


@functools.cache
def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, _ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def norwegian_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 articles of real Norwegian text (scripts/make_archive.py): the sample article and Grunnloven."""
    return _script("make_archive").build_archive(tmp_path_factory.mktemp("archive") / "archive", 200)


def run_batch_cli(*args: str, timeout: float = 600) -> tuple[int, dict, str]:
    """`multitrans batch ... --offline --json` in a subprocess: (exit code, summary JSON, stderr)."""
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "multitrans", "batch", *args, "--offline", "--json"],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return done.returncode, summary, done.stderr


def batch_succeeded(code: int, summary: dict) -> bool:
    """A `batch` run that failed no document: exit 0, or 1 when only blocks no model could serve
    were left untranslated (the sample article's English lines, offline), as `translate` does."""
    return summary.get("failed") == [] and code == (1 if summary.get("with_problems") else 0)


def output_files(out: Path) -> dict[str, bytes]:
    """Every published file under `out` (the .multitrans state left out), by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*") if p.is_file() and ".multitrans" not in p.parts}


@pytest.fixture(scope="session")
def norwegian_batch(norwegian_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The 200 articles through `batch` into nn, da, sv with Apertium, uninterrupted: (output dir, summary)."""
    import shutil

    if shutil.which("apertium") is None:
        pytest.skip("Apertium is not installed")
    out = tmp_path_factory.mktemp("clean") / "out"
    code, summary, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out))
    assert batch_succeeded(code, summary), stderr
    return out, summary


@pytest.fixture(scope="session")
def argos_zh_en() -> Path:
    """The real zh→en Argos package (scripts/setup.sh fetches it). Outside CI a machine without it
    skips; under CI (`CI=true`) its absence fails, so the real-model tests can never be skipped there."""
    from samples import ARGOS_ZH_EN

    if not ARGOS_ZH_EN.is_file():
        message = f"the real zh→en model is not at {ARGOS_ZH_EN}; run scripts/setup.sh"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return ARGOS_ZH_EN
