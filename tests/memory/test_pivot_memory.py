"""The translation memory and pivot routes: the first hop is kept and found again, so a new target
through the same bridge costs only its second hop."""

from __future__ import annotations

from pathlib import Path

from fakes import Scripted, ScriptedDetector, make_doc, pool_of, reverse_words

from multitrans.api import translate_documents
from multitrans.config.registry import load_registry
from multitrans.engines.base import EngineOptions, ModelSpec
from multitrans.memory.session import MemorySession
from multitrans.memory.store import TranslationMemory

TEXTS = ("Kongen bodde i et stort slott ved sjøen.", "Han hadde tre døtre og en hund.")


def registry(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  to-en: {engine: nllb, model: x/to-en}\n  from-en: {engine: nllb, model: x/from-en}\n"
                    "routes:\n  - {from: nb, to: en, use: [to-en]}\n  - {from: en, to: '*', use: [from-en]}\n"
                    "  - {from: nb, to: '*', via: en}\n", encoding="utf-8")
    return load_registry(path)


def engines() -> dict[str, Scripted]:
    return {name: Scripted(ModelSpec(name, "nllb", model=f"x/{name}"), EngineOptions(),
                           script=lambda t, s, g, d, name=name: f"{reverse_words(t)} <{name} {g}>")
            for name in ("to-en", "from-en")}


def run(tmp_path: Path, targets: list[str], made: dict[str, Scripted], memory: TranslationMemory):
    session = MemorySession.of(memory)
    [result] = translate_documents([make_doc(*TEXTS)], targets, registry=registry(tmp_path), pool=pool_of(made),
                                   detector=ScriptedDetector("nb"), source_lang="nb", memory=session)
    return result, session


def test_the_first_hop_is_remembered_and_a_new_target_reuses_it(tmp_path: Path) -> None:
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:
        first = engines()
        before, _ = run(tmp_path, ["de"], first, memory)
        assert len(first["to-en"].segments) == 2

        again = engines()
        result, session = run(tmp_path, ["fr"], again, memory)
        assert again["to-en"].calls == []  # nb→en came from the memory
        assert {c.tgt for c in again["from-en"].calls} == {"fr"}
        record = result.records()[0]["translations"]["fr"]
        assert record["hops"][0]["text"] == before.records()[0]["translations"]["de"]["hops"][0]["text"]

        third = engines()
        result, session = run(tmp_path, ["de", "fr"], third, memory)
        assert third["to-en"].calls == [] and third["from-en"].calls == []  # the whole pivot is remembered too
        assert session.counts.reused == 4
        assert result.records()[1]["translations"]["de"]["hops"][0]["text"] == f"{reverse_words(TEXTS[1])} <to-en en>"
