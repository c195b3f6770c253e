"""examples/ci/: the GitHub Actions workflow and the GitLab CI job, run step by step on a repository of articles.

Each file is parsed with PyYAML and its shell steps run as the CI service would run them (bash
with -e and pipefail, the file's variables in the environment, GitHub's step outputs and `if:`),
against a temporary repository, offline, with Apertium.  Only what needs the CI service itself
is left out: `uses:` actions (their settings are checked instead) and the install step, whose
work this test environment has already done.  So an edit that breaks a command breaks this test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ci"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.org",
                "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.org"}
# The registry of the test repository: Apertium only, so nothing could reach for the network.
MODELS_YAML = """\
models:
  apertium: {engine: apertium}
routes:
  - {from: nb, to: [nn, da, sv], use: [apertium]}
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY}).stdout.strip()


def base_env() -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # this environment's multitrans
    return {**os.environ, **GIT_IDENTITY, "PATH": path, "HF_HUB_OFFLINE": "1"}


def articles_repo(root: Path) -> Path:
    """A repository of two Norwegian articles and a models.yaml, pushed to a bare `origin`."""
    origin, repo = root / "origin.git", root / "site"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=root)
    (repo / "articles" / "2023").mkdir(parents=True)
    (repo / "articles" / "2023" / "konge.txt").write_text(
        "Første sak\n\nDet var en gang en konge. Han bodde i et slott.\n", encoding="utf-8")
    (repo / "articles" / "vei.md").write_text("# Andre sak\n\nVeien var lang og smal.\n", encoding="utf-8")
    (repo / "models.yaml").write_text(MODELS_YAML, encoding="utf-8")
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "--no-gpg-sign", "-m", "articles", cwd=repo)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("push", "--quiet", "-u", "origin", "main", cwd=repo)
    return repo


def edit_article(repo: Path) -> None:
    article = repo / "articles" / "2023" / "konge.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\nKongen ble gammel.\n", encoding="utf-8")
    git("commit", "--quiet", "--no-gpg-sign", "-am", "edit", cwd=repo)
    git("push", "--quiet", cwd=repo)


def run_shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


# --- GitHub Actions --------------------------------------------------------------------------


def github_expand(value: str, workspace: Path) -> str:
    """${{ github.workspace }} is the one expression the workflow's variables may use here."""
    expanded = value.replace("${{ github.workspace }}", str(workspace))
    assert "${{" not in expanded, f"an expression this test does not know: {value}"
    return expanded


def github_condition(condition: str | None, outputs: dict[str, dict[str, str]]) -> bool:
    if condition is None:
        return True
    match = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) == '([^']*)'", condition.strip())
    assert match, f"a condition this test does not know: {condition}"
    step, name, value = match.groups()
    return outputs.get(step, {}).get(name) == value


def run_github_workflow(workflow: dict[str, Any], repo: Path, tmp: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the workflow's one job on `repo`; returns each run step's process, by the step's name."""
    [job] = workflow["jobs"].values()
    env = base_env()
    env.update({key: github_expand(str(value), repo) for key, value in {**workflow.get("env", {}),
                                                                        **job.get("env", {})}.items()})
    outputs: dict[str, dict[str, str]] = {}
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    for number, step in enumerate(job["steps"]):
        if "uses" in step or step.get("name", "").startswith("Install"):
            continue
        if not github_condition(step.get("if"), outputs):
            continue
        output_file = tmp / f"github-output-{number}"
        output_file.write_text("")
        process = run_shell(step["run"], repo, {**env, "GITHUB_OUTPUT": str(output_file),
                                                "GITHUB_WORKSPACE": str(repo)})
        assert process.returncode == 0, f"{step['name']}: {process.stdout}{process.stderr}"
        done[step["name"]] = process
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if line)
    return done


def test_the_github_workflow_caches_what_it_should_and_installs_multitrans():
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    [job] = workflow["jobs"].values()
    caches = [step["with"] for step in job["steps"] if step.get("uses", "").startswith("actions/cache@")]
    models = next(c for c in caches if "hashFiles('models.yaml')" in c["key"])
    assert set(models["path"].split()) == {".cache/huggingface", ".cache/multitrans-ct2"}
    assert workflow["env"]["HF_HOME"].endswith("/.cache/huggingface")
    assert workflow["env"]["MULTITRANS_CT2_CACHE"].endswith("/.cache/multitrans-ct2")
    assert any(c["path"] == ".cache/multitrans-memory" for c in caches)
    install = next(step["run"] for step in job["steps"] if step.get("name", "").startswith("Install"))
    assert 'pip install "$MULTITRANS_SPEC"' in install and "apertium-nno-nob" in install
    assert workflow["permissions"]["contents"] == "write"


def test_the_github_workflow_translates_commits_and_then_finds_nothing_stale(tmp_path):
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    repo = articles_repo(tmp_path)
    origin = tmp_path / "origin.git"

    done = run_github_workflow(workflow, repo, tmp_path)
    annotations = done["Check which translations are stale"].stdout.splitlines()
    assert len(annotations) == 8 and all(line.startswith("::warning file=articles/") for line in annotations)
    assert "::warning file=articles/vei.md,title=stale translation translations/sv/vei.md::missing" in annotations
    assert "Commit the translations" in done
    committed = git("ls-tree", "-r", "--name-only", "main", cwd=origin).splitlines()
    assert {"translations/nn/2023/konge.txt", "translations/sv/vei.md", "translations/aligned/vei.md.jsonl",
            "translations/.multitrans/manifest.json"} <= set(committed)
    assert not any(name.endswith("memory.sqlite") for name in committed)
    assert (repo / ".cache" / "multitrans-memory" / "memory.sqlite").is_file()
    nynorsk = git("show", "main:translations/nn/2023/konge.txt", cwd=origin)
    assert nynorsk.startswith("Første sak") and "konge" in nynorsk

    head = git("rev-parse", "main", cwd=origin)
    done = run_github_workflow(workflow, repo, tmp_path)
    assert done["Check which translations are stale"].stdout == ""
    assert set(done) == {"Check which translations are stale"}
    assert git("rev-parse", "main", cwd=origin) == head

    edit_article(repo)
    done = run_github_workflow(workflow, repo, tmp_path)
    annotations = done["Check which translations are stale"].stdout.splitlines()
    assert {line.split(",title=")[0] for line in annotations} == {"::warning file=articles/2023/konge.txt"}
    assert len(annotations) == 4  # nn, da, sv and the aligned record
    assert git("log", "-1", "--format=%s", "main", cwd=origin) == "Regenerate translations"
    assert "Kongen" in git("show", "main:translations/da/2023/konge.txt", cwd=origin)


# --- GitLab CI ---------------------------------------------------------------------------------


def test_the_gitlab_job_caches_what_it_should_and_installs_multitrans():
    [job] = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8")).values()
    models = next(c for c in job["cache"] if isinstance(c["key"], dict))
    assert models["key"]["files"] == ["models.yaml"]
    assert set(models["paths"]) == {".cache/huggingface", ".cache/multitrans-ct2"}
    assert job["variables"]["HF_HOME"] == "$CI_PROJECT_DIR/.cache/huggingface"
    assert job["variables"]["MULTITRANS_CT2_CACHE"] == "$CI_PROJECT_DIR/.cache/multitrans-ct2"
    assert any(c["paths"] == ["translations/"] for c in job["cache"])
    assert 'pip install "$MULTITRANS_SPEC"' in job["before_script"]
    assert "translations/" in job["artifacts"]["paths"]


def run_gitlab_job(job: dict[str, Any], repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**base_env(), "CI_PROJECT_DIR": str(repo)}
    for key, value in job["variables"].items():
        env[key] = str(value).replace("$CI_PROJECT_DIR", str(repo))
    return run_shell("\n".join(job["script"]), repo, env)


def test_the_gitlab_job_translates_what_is_stale_and_publishes_it(tmp_path):
    [job] = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8")).values()
    repo = articles_repo(tmp_path)

    done = run_gitlab_job(job, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    stale = json.loads((repo / "stale.json").read_text(encoding="utf-8"))
    assert len(stale["stale"]) == 8 and {s["reason"] for s in stale["stale"]} == {"missing"}
    assert (repo / "translations" / "sv" / "vei.md").read_text(encoding="utf-8").startswith("# ")
    written = {p: p.stat().st_mtime_ns for p in (repo / "translations").rglob("*.*") if ".multitrans" not in p.parts}
    assert len(written) == 8

    done = run_gitlab_job(job, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((repo / "stale.json").read_text(encoding="utf-8"))["stale"] == []
    assert {p: p.stat().st_mtime_ns for p in written} == written

    edit_article(repo)
    done = run_gitlab_job(job, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    stale = json.loads((repo / "stale.json").read_text(encoding="utf-8"))
    assert {s["file"] for s in stale["stale"]} == {"articles/2023/konge.txt"}
    assert "Kongen" in (repo / "translations" / "nn" / "2023" / "konge.txt").read_text(encoding="utf-8")
    assert (repo / "translations" / "nn" / "vei.md").stat().st_mtime_ns == written[repo / "translations" / "nn" / "vei.md"]
