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


# --- names, acronyms and `&` (issue 11): real sentences Apertium mangled ---------------------

# NTREX Bokmål lines 2 and 95, and line 9 of the sample article (cut after its domain).
AM_LINE = ("Medlemmer av den walisiske nasjonalforsamlingen, som i dag er kjent under forkortelsen AM "
           "(Assembly Members), er ikke helt fornøyd med forslaget om at tittelen deres kan endres til MWP "
           "(Member of the Welsh Parliament).")
MS_LINE = ("Willoughby skal bli merkevareambassadør for M&S og skal erstatte Ant McPartlin som vert for "
           "ITV-programmet I'm A Celebrity.")
EM24_LINE = "Det vises til tidligere artikler i EM24 EuropMediawww.em24.uk, samt avsnittet."


def test_raw_apertium_still_mangles_them(engine):
    """What the pipeline guards against: if Apertium stops doing this, the guard may go."""
    assert "AMMA" in engine.translate([AM_LINE], "nb", "sv")[0]
    danish = engine.translate([MS_LINE, EM24_LINE], "nb", "da")
    assert "M&S" not in danish[0] and "McPartlin" not in danish[0]
    assert "EM24" not in danish[1]  # "Em24"


@pytest.mark.slow
def test_names_acronyms_and_ampersands_come_through_the_pipeline(tmp_path):
    from typer.testing import CliRunner

    from multitrans.cli import app

    article = tmp_path / "a.txt"
    article.write_text("\n\n".join([AM_LINE, MS_LINE, EM24_LINE]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["translate", str(article), "--from", "nb", "--to", "nn,da,sv",
                                      "--out", str(out), "--offline", "--no-memory"])
    assert result.exit_code in (0, 1), result.output
    for target in ("nn", "da", "sv"):
        text = (out / target / "a.txt").read_text(encoding="utf-8")
        assert " AM (" in text and "AMMA" not in text, target
        assert "M&S" in text and "Ant McPartlin" in text and "ITV-" in text, target
        assert "EM24 EuropMedia" in text, target
    swedish = (out / "sv" / "a.txt").read_text(encoding="utf-8")
    assert "för M&S och ska ersätta Ant McPartlin som värd" in swedish  # translated around them, not left as is
