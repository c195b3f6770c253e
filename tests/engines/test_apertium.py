"""Apertium on real Norwegian: the sample article into Nynorsk, Danish and Swedish."""

import shutil

import pytest

from multitrans.engines.apertium import ApertiumEngine
from multitrans.engines.base import EngineOptions, ModelSpec, ModelUnavailable

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (apt-get install apertium apertium-nno-nob apertium-dan-nor apertium-swe-nor)")


@pytest.fixture(scope="module")
def engine():
    return ApertiumEngine(ModelSpec("apertium", "apertium"), EngineOptions())


def test_bokmal_to_nynorsk_gives_real_nynorsk(engine):
    out = engine.translate(["Det er ikke noe problem.", "Containerne hadde blitt fraktet fra Najin."], "nb", "nn")
    assert len(out) == 2
    assert "ikkje" in out[0]
    assert "frå" in out[1]
    assert "*" not in out[1] and "Najin" in out[1]  # unknown-word mark removed, word kept


def test_danish_and_swedish(engine):
    assert "ikke" in engine.translate(["Jeg vet ikke hva han sa."], "nb", "da")[0]
    assert "inte" in engine.translate(["Jeg vet ikke hva han sa."], "nb", "sv")[0]


def test_unserved_pair_is_unavailable(engine):
    with pytest.raises(ModelUnavailable, match="en→nn"):
        engine.check("en", "nn")


def test_missing_program_is_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    engine = ApertiumEngine(ModelSpec("apertium", "apertium"), EngineOptions())
    with pytest.raises(ModelUnavailable, match="apt-get install apertium"):
        engine.check("nb", "nn")
