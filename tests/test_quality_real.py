"""Real wording, measured: the real OPUS-MT zh→en model through multitrans against bare CTranslate2.

The first 100 lines of NTREX's Chinese are translated through the whole pipeline (read,
segment, protect spans, translate, check, repair, assemble) and scored with sacrebleu
against the human English.  Whatever multitrans does around the model may cost at most
0.5 chrF against the same model run bare at the same beam; and, greedy, the engine must
produce exactly the tokens bare CTranslate2 does (same rows, whatever the batching).
These tests run in CI (conftest.argos_zh_en fails there when the model is missing).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from conftest import _script
from multitrans.api import read_document, translate_documents
from multitrans.config.registry import load_registry
from multitrans.engines import EngineOptions, ModelSpec, load_engine
from samples import NTREX_TEST

pytestmark = pytest.mark.slow

CHINESE = (NTREX_TEST / "zho-CN.txt").read_text(encoding="utf-8").splitlines()
ENGLISH = (NTREX_TEST / "eng.txt").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    return _script("quality")


def test_greedy_engine_gives_exactly_bare_ctranslate2s_tokens(argos_zh_en: Path, quality: ModuleType,
                                                               tmp_path: Path) -> None:
    engine = load_engine(ModelSpec("zh-en", "argos", str(argos_zh_en)),
                         EngineOptions(device="cpu", beam=1, cache_dir=str(tmp_path / "hub")))
    try:
        ours = engine.translate_multi([(line, "zh", "en") for line in CHINESE])
    finally:
        engine.close()
    assert ours == quality.bare_ct2(argos_zh_en, CHINESE, beam=1)


@pytest.mark.parametrize("beam", [1, 4])
def test_chrf_through_multitrans_is_within_half_a_point_of_bare_ctranslate2(
    beam: int, argos_zh_en: Path, quality: ModuleType, tmp_path: Path,
) -> None:
    registry = tmp_path / "models.yaml"
    registry.write_text(f"models:\n  zh-en: {{engine: argos, model: '{argos_zh_en}'}}\n"
                        "routes:\n  - {from: zh, to: en, use: [zh-en]}\n", encoding="utf-8")
    source = tmp_path / "ntrex.txt"
    source.write_text("\n\n".join(CHINESE) + "\n", encoding="utf-8")
    [result] = translate_documents([read_document(source)], ["en"], registry=load_registry(registry), source_lang="zh",
                                   options=EngineOptions(device="cpu", beam=beam, cache_dir=str(tmp_path / "hub")))
    ours = [block.text for block in result.translations["en"]]
    assert len(ours) == len(ENGLISH)
    through = quality.score(ours, ENGLISH)["chrf"]
    bare = quality.score(quality.bare_ct2(argos_zh_en, CHINESE, beam=beam), ENGLISH)["chrf"]
    assert through >= bare - 0.5, (through, bare)
    assert bare > 45  # the real model, not noise: 50.1 greedy on lines 1-200 (data README)


def test_the_quality_table_reports_flag_heading_and_misread_rates(quality: ModuleType) -> None:
    records = [{"kind": "heading", "source": {"lang": "nb"}, "translations": {"nn": {"flags": []}}},
               {"kind": "paragraph", "source": {"lang": "de"},
                "translations": {"nn": {"flags": [{"code": "wrong_language", "detail": "…"}]}}}]
    summary = quality.qa_summary(records, "nn", "nb")
    assert summary == {"flags": {"wrong_language": 0.5}, "flagged_blocks": 0.5, "headings": 0.5, "misread_language": 0.5}
    assert quality.score(ENGLISH[:5], ENGLISH[:5]) == {"bleu": 100.0, "chrf": 100.0}
    row = {"system": "s", "pair": "nb→nn", "lines": 2, "bleu": 1.0, "chrf": 2.0, "seconds": 3.0, "qa": summary}
    assert quality.table([row]).splitlines()[-1] == "| s | nb→nn | 2 | 1.0 | 2.0 | 50.0% | wrong_language 50.0% | 50.0% | 50.0% | 3.0 |"
