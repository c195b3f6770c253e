"""`--from` names the source: a block leaves that language only on strong evidence.

Real NTREX Bokmål lines that the block detector misread (the readings are the detector's own,
recorded before its accuracy work) must stay Bokmål and be translated; real other-language
blocks (the sample article's English header, a Russian line) still leave it.
"""

from __future__ import annotations

import shutil

import pytest

from fakes import make_doc
from multitrans.api import prepare, translate_documents
from multitrans.pipeline.detect import Detection

TRAGEDY = "«Dette er allerede en tragedie, men den kan bli mye verre.»"  # NTREX nob line 414, read as German
DEMOCRAT = ("Demokraten fra Los Angeles forsikret av påstandene ble fremsatt av «ultrakonservative» kommentatorer "
            "og nettsider.")  # NTREX nob line 898, read as German (0.91)
REVIEW = "Anmeldelse av Johnny English Strikes Again – blodfattig Rowan Atkinson i spionparodi"  # line 919, Welsh 0.99
LEBRON = "LeBron skal ha sin Lakers-debut på søndag i San Diego"  # NTREX nob line 683, read as Tagalog (0.84)
HEADER = "ALL ARTICLES CAN BE READ IN MORE THAN 100 LANGUAGES"  # the sample article, English (0.98)
RUSSIAN = "Северная Корея поставила России боеприпасы."

READINGS = {TRAGEDY: Detection("de", 0.8351), DEMOCRAT: Detection("de", 0.9084), REVIEW: Detection("cy", 0.9912),
            LEBRON: Detection("tl", 0.8423), HEADER: Detection("en", 0.9802), RUSSIAN: Detection("ru", 0.99)}


class Recorded:
    """The block detector's recorded readings of these real lines."""

    def detect(self, text: str) -> Detection:
        return READINGS[text]

    def detect_many(self, texts: list[str]) -> list[Detection]:
        return [READINGS[text] for text in texts]

    def detect_document(self, texts):  # pragma: no cover - --from skips document detection
        raise AssertionError("the document's language was named")


def test_misread_bokmal_blocks_stay_bokmal_and_real_other_languages_leave() -> None:
    document = make_doc(TRAGEDY, DEMOCRAT, REVIEW, LEBRON, HEADER, RUSSIAN)
    prepared = prepare(document, Recorded(), source_lang="nb")
    assert prepared.block_langs == ("nb", "nb", "nb", "nb", "en", "ru")


def test_without_from_the_detector_still_decides_blocks() -> None:
    class Document(Recorded):
        def detect_document(self, texts):
            from multitrans.pipeline.detect import DocumentDetection

            return DocumentDetection("nb", 0.99, [READINGS[t] for t in texts])

    assert prepare(make_doc(TRAGEDY, HEADER), Document()).block_langs == ("de", "en")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")
def test_the_misread_sentence_is_translated_into_nynorsk_with_the_real_detector() -> None:
    [result] = translate_documents([make_doc(TRAGEDY)], ["nn"], source_lang="nb")
    [block] = result.translations["nn"]
    assert block.engine == "apertium" and block.text != TRAGEDY and "tragedie" in block.text
