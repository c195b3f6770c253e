"""End to end through the CLI and the API: the real article, real Apertium, tiny real models."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from multitrans.cli import app
from multitrans.formats.text import read
from multitrans.pipeline.segment import find_protected, is_acronym

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
pytestmark = pytest.mark.slow
runner = CliRunner()


def records(out: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (out / "aligned" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def assert_same_structure(source: str, translated: str) -> None:
    """Same blocks in the same order, same blank and separator lines between them."""
    src, out = read(source, "a.txt"), read(translated, "a.txt")
    assert len(out.blocks) == len(src.blocks)
    assert [p for p in out.template if isinstance(p, str)] == [p for p in src.template if isinstance(p, str)]


def assert_spans_kept(source_text: str, translation: str, engine: str | None = None) -> None:
    """Every protected span is in the translation; acronyms only where the engine must keep them
    (a neural model may translate one: "FN" is "UN" in English)."""
    for start, end in find_protected(source_text):
        span = source_text[start:end]
        if engine not in ("apertium", "copy", None) and is_acronym(span):
            continue
        assert span in translation, span


def run_cli(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "multitrans", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=1200)


@needs_apertium
def test_main_job_offline_apertium_translates_norwegian_and_reports_english_lines(article, tmp_path):
    """The README's main job: nn, da, sv offline; English header/footer kept and reported; exit 1."""
    out = tmp_path / "translations"
    start = time.perf_counter()
    result = run_cli(["translate", str(article), "--to", "nn,da,sv", "--out", str(out), "--offline"],
                     env={"HF_HUB_OFFLINE": "1"})
    elapsed = time.perf_counter() - start
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "warning: not translated: no model available for English (en) → Norwegian Nynorsk (nn)" in result.stderr
    assert "multitrans models pull" in result.stderr
    assert elapsed < 120  # no hub time-outs
    source = article.read_text(encoding="utf-8")
    for lang in ("nn", "da", "sv"):
        text = (out / lang / article.name).read_text(encoding="utf-8")
        assert_same_structure(source, text)
        assert text != source
    nn = (out / "nn" / article.name).read_text(encoding="utf-8")
    assert "ikkje" in nn and "frå" in nn
    rows = records(out, article.name)
    assert [r["id"] for r in rows] == list(range(14))
    assert rows[0]["source"]["lang"] == "en" and rows[-1]["source"]["lang"] == "en"
    assert rows[0]["translations"]["nn"]["engine"] is None
    assert rows[0]["translations"]["nn"]["text"] == rows[0]["source"]["text"]
    assert rows[1]["source"]["lang"] == "nb" and rows[1]["translations"]["da"]["engine"] == "apertium"
    for row in rows:
        for lang, t in row["translations"].items():
            assert_spans_kept(row["source"]["text"], t["text"], t["engine"])


def test_tiny_models_through_marian_and_nllb_deterministically(article, tiny_registry, tmp_path):
    args = ["translate", str(article), "--to", "en,de,fr", "--models", str(tiny_registry), "--offline"]
    first = run_cli([*args, "--out", str(tmp_path / "a")], env={"HF_HUB_OFFLINE": "1"})
    assert first.returncode == 0, first.stderr
    second = run_cli([*args, "--out", str(tmp_path / "b")], env={"HF_HUB_OFFLINE": "1"})
    assert second.returncode == 0, second.stderr
    for lang in ("en", "de", "fr"):
        a = (tmp_path / "a" / lang / article.name).read_bytes()
        assert a == (tmp_path / "b" / lang / article.name).read_bytes()
    assert (tmp_path / "a" / "aligned" / f"{article.name}.jsonl").read_bytes() == \
        (tmp_path / "b" / "aligned" / f"{article.name}.jsonl").read_bytes()
    rows = records(tmp_path / "a", article.name)
    engines = {(r["source"]["lang"], lang): t["engine"] for r in rows for lang, t in r["translations"].items()}
    assert engines[("nb", "en")] == "marian" and engines[("nb", "de")] == "marian"
    assert engines[("en", "de")] == "nllb" and engines[("en", "en")] == "copy"
    source = article.read_text(encoding="utf-8")
    for lang in ("en", "de", "fr"):
        text = (tmp_path / "a" / lang / article.name).read_text(encoding="utf-8")
        assert len(read(text, "x").blocks) >= 14 - 1  # random models may emit nothing for a block
        assert text.count("\u00a0\n") == source.count("\u00a0\n")
    for row in rows:
        for t in row["translations"].values():
            assert_spans_kept(row["source"]["text"], t["text"], t["engine"])


def test_layout_template_and_markdown_keep_code_and_links(tiny_registry, tmp_path):
    post = tmp_path / "post.md"
    post.write_text(
        "---\ntitle: Hei\nno: ja\n---\n# Overskrift\n\nLes [artikkelen](https://www.em24.uk/a-b/) om `kode` nå.\n\n"
        "```python\nprint('ikke oversett')\n```\n\n| Land | Antall |\n| --- | --- |\n| Norge | 1.000 |\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["translate", str(post), "--to", "de", "--from", "nb", "--out", str(tmp_path / "site"),
                                 "--layout", "{stem}.{lang}{ext}", "--models", str(tiny_registry), "--offline"])
    assert result.exit_code == 0, result.output
    out = (tmp_path / "site" / "post.de.md").read_text(encoding="utf-8")
    assert out.startswith("---\ntitle: Hei\nno: ja\n---\n# ")
    assert "](https://www.em24.uk/a-b/)" in out and "`kode`" in out
    assert "```python\nprint('ikke oversett')\n```" in out
    assert "| --- | --- |" in out and "1.000" in out
    assert (tmp_path / "site" / "aligned" / "post.md.jsonl").exists()


def test_stdin_to_stdout(tiny_registry):
    result = runner.invoke(app, ["translate", "-", "--to", "de", "--from", "nb", "--models", str(tiny_registry), "--offline"],
                           input="Overskrift\n\nDet kom 1.000 containere.\n")
    assert result.exit_code == 0, result.output
    assert "1.000" in result.stdout
    assert result.stdout.count("\n\n") == 1 and result.stdout.endswith("\n")


def test_offline_missing_model_is_reported_not_crashed(article, tmp_path):
    registry = tmp_path / "models.yaml"
    registry.write_text("models:\n  m: {engine: nllb, model: someone/not-cached-model}\nroutes:\n  - {from: '*', to: '*', use: m}\n")
    result = run_cli(["translate", str(article), "--to", "de", "--models", str(registry), "--offline", "--out", str(tmp_path / "o")],
                     env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1
    assert "someone/not-cached-model" in result.stderr and "multitrans models pull" in result.stderr
    assert (tmp_path / "o" / "de" / article.name).read_text(encoding="utf-8") == article.read_text(encoding="utf-8")
