"""`batch --check` on outputs a pivot route served: both hops' identities and models are part of what
the manifest records, so a change to either hop makes the outputs stale, and nothing else does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fakes import Norwegian, offline_with_own_ct2_cache
from multitrans.archive.job import check_batch, run_batch
from multitrans.engines.base import EngineOptions

TARGETS = ("de", "fr")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline_with_own_ct2_cache(monkeypatch, tmp_path / "ct2")


class PivotJob:
    """Two articles, nb→de/fr through English: the tiny Marian serves nb→en and, with its >>xx<< tokens, en→de/fr."""

    def __init__(self, root: Path, model_dir: Path) -> None:
        self.archive, self.out, self.models = root / "archive", root / "out", root / "models.yaml"
        self.archive.mkdir()
        (self.archive / "a.txt").write_text("Det var en gang en konge.\n\nHan bodde i et slott.\n", encoding="utf-8")
        (self.archive / "b.txt").write_text("Kongen hadde tre døtre.\n", encoding="utf-8")
        self.first_dir = model_dir
        self.second_dir = model_dir

    def configure(self, first: str = "r1", second: str = "r1") -> None:
        self.models.write_text(
            "models:\n"
            f"  to-en: {{engine: marian, model: {self.first_dir}, revision: {first}}}\n"
            f"  from-en: {{engine: marian, model: {self.second_dir}, target_token: '>>{{code}}<<', revision: {second}}}\n"
            "routes:\n"
            "  - {from: nb, to: en, use: [to-en]}\n"
            f"  - {{from: en, to: [{', '.join(TARGETS)}], use: [from-en]}}\n"
            f"  - {{from: nb, to: [{', '.join(TARGETS)}], via: en}}\n", encoding="utf-8")

    def translate(self) -> None:
        summary = run_batch(self.archive, TARGETS, self.out, registry=self.models,
                            options=EngineOptions(device="cpu"),
                            detector=Norwegian())
        assert summary.failed == [] and summary.done + summary.skipped == 2

    def reasons(self) -> set[str]:
        result = check_batch(self.archive, TARGETS, self.out, registry=self.models, options=EngineOptions(device="cpu"))
        return {s.reason for s in result.stale if not s.output.startswith("aligned/")}


@pytest.fixture
def job(tmp_path: Path, tiny_marian_dir: Path) -> PivotJob:
    return PivotJob(tmp_path, tiny_marian_dir)


def test_the_manifest_records_both_hops_and_a_change_to_either_makes_the_outputs_stale(job: PivotJob, tmp_path: Path) -> None:
    job.configure()
    job.translate()  # one run; --check then loads nothing, so each change is asked of the same outputs
    assert job.reasons() == set()
    manifest = json.loads((job.out / ".multitrans" / "manifest.json").read_text(encoding="utf-8"))
    [route] = manifest["documents"]["a.txt"]["outputs"]["de"]["routes"]
    assert route["model"] == "to-en > from-en"
    assert route["identity"]["engine"] == "pivot" and route["identity"]["revision"] == "r1 > r1"
    for hop in ("first", "second"):
        job.configure(**{hop: "r2"})
        assert job.reasons() == {f"nb→{tgt} would be served differently: {hop} hop revision r1 → r2" for tgt in TARGETS}
    job.configure()
    assert job.reasons() == set()
    original = job.first_dir
    copy = shutil.copytree(original, tmp_path / "other-model")
    for hop in ("first", "second"):
        setattr(job, f"{hop}_dir", copy)
        job.configure()
        assert job.reasons() == {f"models for nb→{tgt} changed" for tgt in TARGETS}
        setattr(job, f"{hop}_dir", original)
