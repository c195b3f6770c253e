"""The batch manifest: an output is stale once the engine that would serve it differs from the one that made it.

Each case runs a real batch job with the tiny Marian checkpoint, changes one thing (the
runtime, the quantization, the revision or the beam) and asks `batch --check`, which must
exit 1 and name what changed.  Conversions go to a private cache, never the user's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes import Norwegian, offline_with_own_ct2_cache, recording_setup
from multitrans.archive.job import check_batch, run_batch
from multitrans.cli import app
from multitrans.engines.base import EngineOptions

runner = CliRunner()
TARGETS = ("de", "fr")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline_with_own_ct2_cache(monkeypatch, tmp_path / "ct2")


class Job:
    """An archive of two articles, its output folder and a models.yaml with one tiny model."""

    def __init__(self, root: Path, model_dir: Path) -> None:
        self.archive, self.out, self.models = root / "archive", root / "out", root / "models.yaml"
        self.model_dir = model_dir
        self.archive.mkdir()
        (self.archive / "a.txt").write_text("Det var en gang en konge.\n\nHan bodde i et slott.\n", encoding="utf-8")
        (self.archive / "b.md").write_text("# Kongen\n\nKongen hadde tre døtre.\n", encoding="utf-8")

    def configure(self, **fields: str) -> None:
        extra = "".join(f", {key}: {value}" for key, value in fields.items())
        self.models.write_text(
            f"models:\n  tiny: {{engine: marian, model: {self.model_dir}, target_token: '>>{{code}}<<'{extra}}}\n"
            f"routes:\n  - {{from: nb, to: [{', '.join(TARGETS)}], use: [tiny]}}\n", encoding="utf-8")

    def translate(self, beam: int | None = None) -> None:
        summary = run_batch(self.archive, TARGETS, self.out, registry=self.models,
                            options=EngineOptions(device="cpu", beam=beam), detector=Norwegian())
        assert summary.failed == [] and summary.done + summary.skipped == 2

    def check(self, *options: str) -> tuple[int, set[str]]:
        """`batch --check`'s exit code and the reasons it gives for the translated outputs."""
        result = runner.invoke(app, ["batch", str(self.archive), "--to", ",".join(TARGETS), "--out", str(self.out),
                                     "--models", str(self.models), "--device", "cpu", "--check", "--json", *options])
        stale = json.loads(result.stdout)["stale"]
        return result.exit_code, {s["reason"] for s in stale if not s["output"].startswith("aligned/")}

    def convert(self, quantization: str) -> None:
        done = runner.invoke(app, ["models", "convert", "tiny", "--quantization", quantization, "--models",
                                   str(self.models), "--offline"])
        assert done.exit_code == 0, done.output


@pytest.fixture
def job(tmp_path: Path, tiny_marian_dir: Path) -> Job:
    return Job(tmp_path, tiny_marian_dir)


def cpu_precision(quantization: str) -> str:
    from multitrans.engines.ct2 import compute_type

    return compute_type(quantization, "cpu")


def test_a_model_converted_since_makes_its_outputs_stale(job: Job) -> None:
    job.configure()
    job.translate()
    assert job.check() == (0, set())
    job.convert("int8")
    code, reasons = job.check()
    precision = cpu_precision("int8")
    assert code == 1
    assert reasons == {f"nb→{tgt} would be served differently: runtime transformers-float32 → ctranslate2-{precision}"
                       + (f", quantization float32 → {precision}" if precision != "float32" else "") for tgt in TARGETS}
    job.translate()
    assert job.check() == (0, set())  # what --check foresaw is what the run recorded


def test_a_runtime_changed_in_models_yaml_makes_its_outputs_stale(job: Job) -> None:
    job.configure()
    job.convert("float32")
    job.translate()
    assert job.check() == (0, set())
    job.configure(runtime="transformers")
    assert job.check() == (1, {f"nb→{tgt} would be served differently: runtime ctranslate2-float32 → transformers"
                               for tgt in TARGETS})


def test_another_quantization_makes_its_outputs_stale(job: Job) -> None:
    if cpu_precision("int8") == "float32":
        pytest.skip("this CPU computes int8 models in float32, so the quantization cannot change")
    job.configure()
    job.convert("float32")
    job.translate()
    job.convert("int8")  # a CPU prefers int8 to float32 when both are converted
    code, reasons = job.check()
    assert code == 1 and all("quantization float32 → int8" in reason for reason in reasons) and len(reasons) == 2


def test_another_revision_makes_its_outputs_stale(job: Job) -> None:
    job.configure(revision="r1")
    job.translate()
    job.configure(revision="r2")
    assert job.check() == (1, {f"nb→{tgt} would be served differently: revision r1 → r2" for tgt in TARGETS})


def test_another_beam_makes_its_outputs_stale(job: Job) -> None:
    job.configure()
    job.translate()
    assert job.check() == (0, set())  # the checkpoint's own beam (4), foreseen from its generation_config.json
    assert job.check("--beam", "4") == (0, set())
    changed = 'decoding {"beam":4} → {"beam":2}'
    assert job.check("--beam", "2") == (1, {f"nb→{tgt} would be served differently: {changed}" for tgt in TARGETS})


# --- manifests written by another version -----------------------------------------------------


def recorded_job(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A finished job with the recording engine: (archive, out, its manifest as JSON)."""
    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    (archive / "a.txt").write_text("Det var en gang en konge.\n", encoding="utf-8")
    registry, pool, _ = recording_setup()
    run_batch(archive, ["de"], out, registry=registry, pool=pool, detector=Norwegian())
    return archive, out, json.loads((out / ".multitrans" / "manifest.json").read_text(encoding="utf-8"))


def reasons(archive: Path, out: Path) -> set[str]:
    return {s.reason for s in check_batch(archive, ["de"], out, registry=recording_setup()[0]).stale}


def test_a_manifest_of_another_version_makes_everything_stale_with_a_reason(tmp_path: Path) -> None:
    archive, out, manifest = recorded_job(tmp_path)
    assert reasons(archive, out) == set()
    (out / ".multitrans" / "manifest.json").write_text(json.dumps({**manifest, "version": 1}), encoding="utf-8")
    assert reasons(archive, out) == {"recorded by another version of multitrans (manifest version 1)"}


def test_a_route_recorded_without_an_identity_is_stale_with_a_reason(tmp_path: Path) -> None:
    archive, out, manifest = recorded_job(tmp_path)
    [route] = manifest["documents"]["a.txt"]["outputs"]["de"]["routes"]
    assert route["identity"]["engine"] == "nllb" and route["identity"]["decoding"] == '{"beam":1}'
    del route["identity"]  # as a journal line of a job run by an older multitrans would have it
    (out / ".multitrans" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert reasons(archive, out) == {"recorded by another version of multitrans"}
