"""`languages` and `models list` show the pairs a pivot route serves through a bridge language."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from multitrans.cli import app

runner = CliRunner()
REGISTRY = ("models:\n  to-en: {engine: nllb, model: someone/to-en}\n  from-en: {engine: nllb, model: someone/from-en}\n"
            "routes:\n  - {from: nb, to: en, use: [to-en]}\n  - {from: en, to: [ar, ko], use: [from-en]}\n"
            "  - {from: nb, to: [ar, ko], via: en}\n")


def test_languages_names_the_bridge_and_each_hops_models(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    result = runner.invoke(app, ["languages", "--from", "nb", "--models", str(path), "--json"])
    assert result.exit_code == 0, result.output
    routes = {row["code"]: row["route"] for row in json.loads(result.output)}
    assert routes["ar"] == ["via en (to-en → from-en)"] and routes["en"] == ["to-en"] and routes["de"] == []


def test_models_list_shows_pairs_served_through_a_bridge(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "models.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    result = runner.invoke(app, ["models", "list", "--models", str(path)])
    assert result.exit_code == 0, result.output
    assert "through a bridge language:" in result.output
    assert any(line.startswith("nb→ar via en") and "to-en → from-en" in line for line in result.output.splitlines())
    rows = json.loads(runner.invoke(app, ["models", "list", "--json", "--models", str(path)]).output)
    assert {(r["from"], r["to"], r["via"]) for r in rows if "via" in r} == {("nb", "ar", "en"), ("nb", "ko", "en")}


def test_models_pull_fetches_both_hops_of_a_pivot(tmp_path, tiny_marian_dir):
    path = tmp_path / "models.yaml"
    path.write_text(f"models:\n  to-en: {{engine: marian, model: {tiny_marian_dir}}}\n"
                    f"  from-en: {{engine: marian, model: {tiny_marian_dir}}}\n"
                    "routes:\n  - {from: nb, to: en, use: [to-en]}\n  - {from: en, to: ar, use: [from-en]}\n"
                    "  - {from: nb, to: ar, via: en}\n", encoding="utf-8")
    result = runner.invoke(app, ["models", "pull", "--to", "ar", "--from", "nb", "--models", str(path)])
    assert result.exit_code == 0, result.output
    assert f"nb→en: to-en ({tiny_marian_dir})" in result.output and f"en→ar: from-en ({tiny_marian_dir})" in result.output
    assert "nb→ar: through en" in result.output
