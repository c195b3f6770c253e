"""Torch and transformers cost over a second to import, huggingface_hub's client a quarter of one:
a run whose routes are all Apertium (or CTranslate2) must pay neither (issue 13, item 9)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")

# The sample article has English lines whose route (NLLB) is not on this machine offline:
# planning must find that out without importing the engine modules that need torch.
PROBE = """
import json, sys
from multitrans.api import translate_document
from multitrans.engines.base import EngineOptions
result = translate_document(sys.argv[1], ["nn"], options=EngineOptions(offline=True))
heavy = ("torch", "transformers", "huggingface_hub.hf_api", "huggingface_hub._snapshot_download")
print(json.dumps({"heavy": sorted(m for m in heavy if m in sys.modules),
                  "source": result.document.blocks[1].text, "nn": result.text("nn").split("\\n\\n")[1]}))
"""


def test_an_apertium_run_imports_no_model_library_nor_the_hub_client(article: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}  # no model cached
    done = subprocess.run([sys.executable, "-c", PROBE, str(article)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert found["nn"] and found["nn"] != found["source"]  # Apertium really translated


def test_a_model_missing_from_the_cache_is_told_from_the_cache_layout(tmp_path: Path) -> None:
    """Only "surely absent" comes from the layout; anything that may be there goes to huggingface_hub."""
    from multitrans.engines.base import ModelSpec
    from multitrans.engines.hubcache import surely_absent

    def spec(model: str) -> ModelSpec:
        return ModelSpec(name="m", engine="marian", model=model)

    assert surely_absent(spec("Helsinki-NLP/opus-mt-en-nn"), str(tmp_path))
    (tmp_path / "models--Helsinki-NLP--opus-mt-en-nn" / "snapshots").mkdir(parents=True)
    assert not surely_absent(spec("Helsinki-NLP/opus-mt-en-nn"), str(tmp_path))
    assert not surely_absent(spec(str(tmp_path)), str(tmp_path))  # a local directory
    assert not surely_absent(spec("not a/valid/id"), str(tmp_path))  # hub.py explains what is wrong
