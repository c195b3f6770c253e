"""Torch and transformers cost over a second to import: a run whose routes are all Apertium
(or CTranslate2) must not pay it (issue 13, item 9)."""

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
print(json.dumps({"heavy": sorted(m for m in ("torch", "transformers") if m in sys.modules),
                  "source": result.document.blocks[1].text, "nn": result.text("nn").split("\\n\\n")[1]}))
"""


def test_an_apertium_run_imports_neither_torch_nor_transformers(article: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}  # no model cached
    done = subprocess.run([sys.executable, "-c", PROBE, str(article)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert found["nn"] and found["nn"] != found["source"]  # Apertium really translated
