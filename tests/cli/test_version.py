"""`multitrans --version` and shell completion (Typer's own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from typer.testing import CliRunner

from multitrans.cli import app
from multitrans.cli import version as version_module

runner = CliRunner()
MULTITRANS = Path(sys.executable).with_name("multitrans")


def test_version_names_multitrans_and_the_installed_libraries():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"multitrans {metadata.version('multitrans')}"
    shown = {line.split()[0]: line.split(None, 1)[1] for line in lines[1:]}
    assert shown["transformers"] == metadata.version("transformers")
    assert shown["CTranslate2"] == metadata.version("ctranslate2")
    assert shown["lingua"] == metadata.version("lingua-language-detector")
    assert set(shown) == {"transformers", "CTranslate2", "lingua", "Apertium"}


def test_version_of_apertium_is_the_debian_packages_or_not_found():
    found = version_module.apertium_version()
    if shutil.which("apertium") is None:
        assert found == version_module.NOT_FOUND
    elif shutil.which("dpkg-query"):
        expected = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "apertium"], capture_output=True, text=True)
        assert found == (expected.stdout.strip() or found)
        assert found[0].isdigit() or "version unknown" in found


def test_a_missing_library_or_program_is_not_found(monkeypatch):
    monkeypatch.setattr(version_module, "LIBRARIES", (("transformers", "no-such-distribution-xyz"),))
    monkeypatch.setattr(version_module.shutil, "which", lambda name: None)
    text = version_module.version_text()
    assert "transformers  not found" in text and "Apertium      not found" in text


def test_version_is_fast_and_imports_no_model_library():
    code = ("import sys; from typer.testing import CliRunner; from multitrans.cli import app; "
            "r = CliRunner().invoke(app, ['--version']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2', 'lingua') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_completion_is_offered_and_completes_commands_and_options():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output
    env = {**os.environ, "_MULTITRANS_COMPLETE": "complete_bash"}
    done = subprocess.run([str(MULTITRANS)], env={**env, "COMP_WORDS": "multitrans ba", "COMP_CWORD": "1"},
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["batch"]
    done = subprocess.run([str(MULTITRANS)], env={**env, "COMP_WORDS": "multitrans batch --che", "COMP_CWORD": "2"},
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["--check"]


def test_install_completion_writes_the_bash_script(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    done = subprocess.run([str(MULTITRANS), "--install-completion", "bash"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    script = tmp_path / ".bash_completions" / "multitrans.sh"
    assert "_MULTITRANS_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()
