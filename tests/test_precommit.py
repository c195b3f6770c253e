"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself on a repository of articles.

Offline: the hooks are `language: system` (they run the multitrans of this environment, found
on PATH), so pre-commit installs nothing, and Apertium translates Bokmål into Nynorsk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")]

CHECKOUT = Path(__file__).resolve().parents[1]
MANIFEST = ".pre-commit-hooks.yaml"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.org",
                "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.org"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY}).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(repository, commit) holding this checkout's hooks: the checkout itself once its manifest is committed.

    Until then (a working tree with the manifest new or edited) a clone of the checkout with the
    working tree's manifest committed on top stands in for it, as try-repo does for tracked files.
    """
    if not (CHECKOUT / ".git").exists():
        pytest.skip("the checkout is not a git repository")
    committed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", MANIFEST], cwd=CHECKOUT).returncode == 0
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", MANIFEST], cwd=CHECKOUT,
                             capture_output=True).returncode == 0
    if committed and tracked:
        return CHECKOUT, git("rev-parse", "HEAD", cwd=CHECKOUT)
    shadow = tmp_path_factory.mktemp("hooks") / "multitrans"
    git("clone", "--quiet", str(CHECKOUT), str(shadow), cwd=CHECKOUT)
    shutil.copy(CHECKOUT / MANIFEST, shadow / MANIFEST)
    git("add", MANIFEST, cwd=shadow)
    git("commit", "--quiet", "--no-gpg-sign", "-m", "the working tree's hooks", cwd=shadow)
    return shadow, git("rev-parse", "HEAD", cwd=shadow)


def pre_commit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # this environment's multitrans
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **GIT_IDENTITY, "PATH": path, "HF_HUB_OFFLINE": "1",
                                            "PRE_COMMIT_HOME": str(cwd.parent / "pre-commit-home"), **(env or {})})


def articles_repo(root: Path) -> Path:
    repo = root / "site"
    (repo / "articles" / "2023").mkdir(parents=True)
    (repo / "articles" / "2023" / "konge.txt").write_text(
        "Første sak\n\nDet var en gang en konge. Han bodde i et slott.\n", encoding="utf-8")
    (repo / "articles" / "vei.md").write_text("# Andre sak\n\nVeien var lang og smal.\n", encoding="utf-8")
    git("init", "--quiet", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "--no-gpg-sign", "-m", "articles", cwd=repo)
    return repo


def edit_article(repo: Path) -> None:
    article = repo / "articles" / "2023" / "konge.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\nKongen ble gammel.\n", encoding="utf-8")
    git("add", ".", cwd=repo)


def test_try_repo_regenerates_then_checks(hook_repo, tmp_path):
    """try-repo runs a hook with no arguments of the user's, so they come from MULTITRANS_BATCH_* here."""
    repository, ref = hook_repo
    repo = articles_repo(tmp_path)
    env = {"MULTITRANS_BATCH_ARCHIVE": "articles", "MULTITRANS_BATCH_TO": "nn", "MULTITRANS_BATCH_OUT": "translations",
           "MULTITRANS_BATCH_OFFLINE": "1"}

    def try_repo(hook: str) -> subprocess.CompletedProcess[str]:
        return pre_commit("try-repo", str(repository), hook, "--ref", ref, "--all-files", cwd=repo, env=env)

    done = try_repo("multitrans-batch")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "translations" / "nn" / "2023" / "konge.txt").read_text(encoding="utf-8") != ""
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "--no-gpg-sign", "-m", "translations", cwd=repo)

    done = try_repo("multitrans-check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "multitrans translations are current" in done.stdout and "Passed" in done.stdout

    edit_article(repo)
    done = try_repo("multitrans-check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "would translate nn/2023/konge.txt (source changed)" in done.stdout
    assert "vei.md" not in done.stdout

    done = try_repo("multitrans-batch")  # rewrites committed translations: pre-commit fails it, as for a formatter
    assert done.returncode == 1 and "files were modified by this hook" in done.stdout, done.stdout + done.stderr
    assert "Kongen" in (repo / "translations" / "nn" / "2023" / "konge.txt").read_text(encoding="utf-8")
    git("add", ".", cwd=repo)
    assert try_repo("multitrans-check").returncode == 0


def test_the_users_config_names_the_archive(hook_repo, tmp_path):
    """What a user writes in .pre-commit-config.yaml: the hook's repository, a rev, and the arguments."""
    repository, ref = hook_repo
    repo = articles_repo(tmp_path)
    args = '["articles", "--to", "nn", "--out", "translations", "--offline"]'
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repository}\n    rev: {ref}\n    hooks:\n"
        f"      - id: multitrans-batch\n        args: {args}\n        stages: [manual]\n"
        f"      - id: multitrans-check\n        args: {args}\n", encoding="utf-8")
    done = pre_commit("run", "multitrans-batch", "--hook-stage", "manual", "--all-files", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "--no-gpg-sign", "-m", "translations", cwd=repo)
    assert pre_commit("run", "--all-files", cwd=repo).returncode == 0

    edit_article(repo)
    done = subprocess.run(["git", "commit", "-m", "edit"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY})  # no hook installed yet: the commit goes through
    assert done.returncode == 0
    assert pre_commit("install", cwd=repo).returncode == 0
    (repo / "articles" / "vei.md").write_text("# Andre sak\n\nVeien var kort.\n", encoding="utf-8")
    git("add", ".", cwd=repo)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(["git", "commit", "-m", "edit again"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY, "PATH": path,
                               "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    assert done.returncode == 1, done.stdout + done.stderr  # the installed hook refuses the commit
    assert "would translate nn/vei.md (source changed)" in done.stderr  # git shows a hook's output on stderr
    assert "would translate nn/2023/konge.txt (source changed)" in done.stderr
    assert git("log", "--format=%s", "-1", cwd=repo) == "edit"
