"""Apertium translates each segment on its own: a segment's translation never depends on its neighbours.

Batch runs reuse translations from the memory, so the segments that reach Apertium in
one call differ from run to run; resumed and clean runs only give the same files when
Apertium's output for a segment is the same whatever else is in the call.
"""

import shutil

import pytest

from multitrans.engines.apertium import ApertiumEngine
from multitrans.engines.base import EngineOptions, ModelSpec

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")

# Neighbours that Apertium's nob-dan and nob-swe transfer rules used to merge across line ends.
SEGMENTS = [
    "Løpende våpenavtaler",
    "FNs sikkerhetsråd",
    "I tillegg til å fortsette å håndheve de pågående sanksjoner, vil FNs sikkerhetsråd bli orientert.",
    "Kim Jong Un og Vladimir Putin",
    "Ifølge Korean Central News Agency, skal Kim Jong Un visstnok ha bedt om det.",
    "Talsmann John Kirby",
    "Se <b> & «dette» – A\u00a0B.",
]


@pytest.fixture(scope="module")
def engine() -> ApertiumEngine:
    return ApertiumEngine(ModelSpec("apertium", "apertium"), EngineOptions())


@pytest.mark.parametrize("tgt", ["nn", "da", "sv"])
def test_a_segment_translates_the_same_alone_and_among_others(engine, tgt):
    together = engine.translate(SEGMENTS, "nb", tgt)
    alone = [engine.translate([s], "nb", tgt)[0] for s in SEGMENTS]
    reversed_order = engine.translate(SEGMENTS[::-1], "nb", tgt)[::-1]
    assert together == alone == reversed_order


def test_markup_characters_come_back_as_text(engine):
    [out] = engine.translate(["Se <b> & «dette» – A\u00a0B."], "nb", "da")
    assert "<b> &" in out and "«" in out and "\u00a0" in out
