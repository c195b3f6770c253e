"""The translation memory: keys, lookups, reuse through a run, flags kept, TMX export, the CLI."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from fakes import Norwegian, make_doc, recording_setup
from multitrans.api import translate_documents
from multitrans.cli import app
from multitrans.engines.identity import EngineIdentity, normalize
from multitrans.errors import MultitransError, UserError
from multitrans.memory.session import MemorySession, memory_session
from multitrans.memory.store import Entry, TranslationMemory

runner = CliRunner()
IDENTITY = EngineIdentity("nllb", "x/m", "r1", "transformers", "float32", '{"beam":1}')


def entry(source: str, translation: str, identity: EngineIdentity = IDENTITY, src: str = "nb", tgt: str = "de") -> Entry:
    return Entry(identity.key(src, tgt, source), identity, src, tgt, source, translation)


def test_normalization_joins_whitespace_and_composes_characters():
    assert normalize(" Det  kom\nmange. ") == "Det kom mange."
    assert normalize("Sma\u030as") == normalize("Sm\u00e5s")  # å decomposed and composed


def test_every_part_of_the_key_separates_entries(tmp_path):
    with TranslationMemory(tmp_path / "m.sqlite") as tm:
        tm.store([entry("Hei.", "Hallo.")])
        variants = [
            EngineIdentity("marian", "x/m", "r1", "transformers", "float32", '{"beam":1}'),
            EngineIdentity("nllb", "x/other", "r1", "transformers", "float32", '{"beam":1}'),
            EngineIdentity("nllb", "x/m", "r2", "transformers", "float32", '{"beam":1}'),
            EngineIdentity("nllb", "x/m", "r1", "ctranslate2", "float32", '{"beam":1}'),
            EngineIdentity("nllb", "x/m", "r1", "transformers", "int8", '{"beam":1}'),
            EngineIdentity("nllb", "x/m", "r1", "transformers", "float32", '{"beam":4}'),
        ]
        assert tm.lookup([IDENTITY.key("nb", "de", "Hei.")])
        for other in variants:
            assert not tm.lookup([other.key("nb", "de", "Hei.")]), other
        assert not tm.lookup([IDENTITY.key("nb", "fr", "Hei.")])
        assert not tm.lookup([IDENTITY.key("nn", "de", "Hei.")])
        assert tm.lookup([IDENTITY.key("nb", "de", "  Hei. ")])


def test_an_existing_entry_keeps_its_first_translation_and_reads_see_commits(tmp_path):
    path = tmp_path / "m.sqlite"
    with TranslationMemory(path) as writer, TranslationMemory(path, readonly=True) as reader:
        assert writer.store([entry("Hei.", "Hallo.")]) == 1
        assert writer.store([entry("Hei.", "Servus.")]) == 0
        [hit] = reader.lookup([IDENTITY.key("nb", "de", "Hei.")]).values()
        assert hit.translation == "Hallo." and hit.source == "Hei."
        assert writer._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_not_a_memory_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot use translation memory"):
        TranslationMemory(bad)


def test_a_second_run_sends_nothing_to_the_engine_and_writes_the_same_records(tmp_path):
    docs = [make_doc("Det kom 1.000 containere i fjor.", "Hei på deg. Ha det bra."), make_doc("Ha det bra.", name="b.txt")]
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, loaded = recording_setup()
        first = translate_documents(docs, ["de", "fr"], registry=registry, pool=pool, detector=Norwegian(), memory=session)
        assert loaded["m"].segments
        assert session.counts.translated == 6 and session.counts.reused == 0  # 3 sentences × 2 pairs
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, loaded = recording_setup()
        second = translate_documents(docs, ["de", "fr"], registry=registry, pool=pool, detector=Norwegian(), memory=session)
        assert loaded["m"].calls == []
        assert session.counts.translated == 0 and session.counts.reused == 6
    for a, b in zip(first, second):
        assert a.text("de") == b.text("de") and a.text("fr") == b.text("fr")
        assert a.records() == b.records()  # flags and attempts come back from the memory too


def test_only_new_sentences_reach_the_engine(tmp_path):
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, _ = recording_setup()
        translate_documents([make_doc("Første setning her. Andre setning her.")], ["de"], registry=registry, pool=pool,
                            detector=Norwegian(), memory=session)
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, loaded = recording_setup()
        [result] = translate_documents([make_doc("Første setning her. En helt ny setning.")], ["de"], registry=registry,
                                       pool=pool, detector=Norwegian(), memory=session)
    assert set(loaded["m"].segments) <= {"En helt ny setning."}
    assert "En helt ny setning." in loaded["m"].segments
    assert result.text("de") == "FØRSTE SETNING HER. [de] EN HELT NY SETNING. [de]\n"


def test_a_new_model_revision_or_beam_misses_the_memory(tmp_path):
    doc = make_doc("Tekst som skal oversettes.")
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, _ = recording_setup(revision="r1")
        translate_documents([doc], ["de"], registry=registry, pool=pool, detector=Norwegian(), memory=session)
    for revision, beam in (("r2", 1), ("r1", 4)):
        with memory_session(tmp_path / "m.sqlite") as session:
            registry, pool, loaded = recording_setup(revision=revision, beam=beam)
            translate_documents([doc], ["de"], registry=registry, pool=pool, detector=Norwegian(), memory=session)
            assert loaded["m"].segments == ["Tekst som skal oversettes."], (revision, beam)


def test_a_normalized_hit_that_would_lose_a_protected_span_is_not_used(tmp_path):
    path = tmp_path / "m.sqlite"
    registry, pool, loaded = recording_setup()
    identity = pool.get(registry.models["m"]).identity()
    # Stored for the one-line sentence, but its translation lacks the number (as a broken engine might write it).
    with TranslationMemory(path) as tm:
        tm.store([entry("Det kom 1.000 containere.", "ES KAMEN CONTAINER.", identity)])
    wrapped = "Det kom 1.000\ncontainere."  # same key once normalized, but the hit would drop "1.000"
    with memory_session(path) as session:
        [result] = translate_documents([make_doc(wrapped)], ["de"], registry=registry, pool=pool, detector=Norwegian(),
                                       memory=session)
    assert loaded["m"].segments == [wrapped]
    assert "1.000" in result.text("de")


def test_sentences_alike_once_normalized_are_translated_once(tmp_path):
    with memory_session(tmp_path / "m.sqlite") as session:
        registry, pool, loaded = recording_setup()
        [result] = translate_documents([make_doc("Vi ses i morgen\nhos deg.", "Vi ses i morgen hos deg.")], ["de"],
                                       registry=registry, pool=pool, detector=Norwegian(), memory=session)
    assert loaded["m"].segments == ["Vi ses i morgen\nhos deg."]  # the hard-wrapped one came first
    assert [b.text for b in result.translations["de"]] == ["VI SES I MORGEN\nHOS DEG. [de]"] * 2


def test_stats_prune_and_used_marks(tmp_path):
    with TranslationMemory(tmp_path / "m.sqlite") as tm:
        other = EngineIdentity("apertium", "apertium")
        tm.store([entry("A.", "a."), entry("B.", "b."), entry("C.", "c.", other, tgt="nn")])
        stats = tm.stats()
        assert stats["entries"] == 3
        assert {(g["engine"], g["tgt"], g["entries"]) for g in stats["groups"]} == {("nllb", "de", 2), ("apertium", "nn", 1)}
        tm._db.execute("UPDATE segments SET used = 0")
        tm._db.commit()
        tm.store([], used=[IDENTITY.key("nb", "de", "A.")])  # A. was reused just now
        assert tm.prune(unused_days=1, dry_run=True) == 2
        assert tm.prune(unused_days=1, engine="apertium") == 1
        assert tm.prune(model="x/m") == 2
        assert tm.stats()["entries"] == 0
        with pytest.raises(ValueError, match="say what to prune"):
            tm.prune()


def test_small_transactions_commit_as_they_go(tmp_path, monkeypatch):
    import multitrans.memory.store as memory

    monkeypatch.setattr(memory, "TRANSACTION_ROWS", 2)
    path = tmp_path / "m.sqlite"
    commits = []
    with TranslationMemory(path) as tm:
        tm._db.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
        tm.store([entry(f"Setning {i}.", f"Satz {i}.") for i in range(5)])
    assert len(commits) == 3
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 5


def test_tmx_export_is_tmx_1_4b(tmp_path):
    path = tmp_path / "m.sqlite"
    with TranslationMemory(path) as tm:
        tm.store([entry("Det kom <1.000> & mer.", "Es kamen <1.000> & mehr."), entry("Hei.", "Hallo.\x01")])
    result = runner.invoke(app, ["memory", "export", str(tmp_path / "m.tmx"), "--memory", str(path)])
    assert result.exit_code == 0, result.output
    root = ET.parse(tmp_path / "m.tmx").getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None and header.get("segtype") == "sentence" and header.get("srclang") == "*all*"
    units = root.findall("body/tu")
    assert len(units) == 2
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    pairs = {tuple(tuv.get(lang) for tuv in tu.findall("tuv")): [tuv.findtext("seg") for tuv in tu.findall("tuv")]
             for tu in units}
    assert set(pairs) == {("nb", "de")}
    segs = sorted(tuple(tuv.findtext("seg") for tuv in tu.findall("tuv")) for tu in units)
    assert segs == [("Det kom <1.000> & mer.", "Es kamen <1.000> & mehr."), ("Hei.", "Hallo.\ufffd")]
    assert {p.get("type") for p in units[0].findall("prop")} >= {"x-engine", "x-model", "x-revision"}


def test_memory_commands(tmp_path):
    out = tmp_path / "out"
    with TranslationMemory(out / ".multitrans" / "memory.sqlite") as tm:
        tm.store([entry("Hei.", "Hallo.")])
    stats = runner.invoke(app, ["memory", "stats", "--out", str(out), "--json"])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.output)["entries"] == 1
    exported = runner.invoke(app, ["memory", "export", str(tmp_path / "m.jsonl"), "--out", str(out), "--format", "jsonl"])
    assert exported.exit_code == 0
    [line] = (tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["translation"] == "Hallo."
    assert runner.invoke(app, ["memory", "prune", "--out", str(out)]).exit_code == 2
    pruned = runner.invoke(app, ["memory", "prune", "--out", str(out), "--model", "x/m"])
    assert pruned.exit_code == 0 and "deleted 1 entries" in pruned.output
    missing = runner.invoke(app, ["memory", "stats", "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no translation memory" in missing.output


@pytest.mark.parametrize("command", [["memory", "stats"], ["memory", "export"], ["memory", "prune"], ["batch"]])
def test_help_has_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: multitrans " + command[0] in result.output


def test_translate_keeps_its_memory_under_the_output_unless_told_otherwise(tmp_path, monkeypatch):
    import multitrans.api as api

    registry, pool, loaded = recording_setup()
    real = api.translate_documents
    seen = []

    def fake(documents, targets, **kwargs):
        seen.append(kwargs.get("memory"))
        return real(documents, targets, registry=registry, pool=pool, detector=Norwegian(), memory=kwargs.get("memory"))

    monkeypatch.setattr(api, "translate_documents", fake)
    article = tmp_path / "a.txt"
    article.write_text("Dette er en norsk tekst om været i dag.\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(article), "--to", "de", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / ".multitrans" / "memory.sqlite").exists()
    assert loaded["m"].segments == ["Dette er en norsk tekst om været i dag."]
    again = runner.invoke(app, ["translate", str(article), "--to", "de", "--out", str(tmp_path / "o")])
    assert again.exit_code == 0 and len(loaded["m"].calls) == 1  # the second run found it in the memory
    shared = tmp_path / "shared.sqlite"
    runner.invoke(app, ["translate", str(article), "--to", "de", "--out", str(tmp_path / "p"), "--memory", str(shared)])
    assert shared.exists() and not (tmp_path / "p" / ".multitrans").exists()
    runner.invoke(app, ["translate", str(article), "--to", "de", "--out", str(tmp_path / "q"), "--no-memory"])
    assert seen[-1] is None and not (tmp_path / "q" / ".multitrans").exists()
    assert all(isinstance(session, MemorySession) for session in seen[:-1])  # every run but --no-memory had one


def test_a_session_wraps_the_run_without_editing_the_plan_or_the_results(tmp_path):
    from multitrans.pipeline.plan import Plan
    from multitrans.pipeline.quality import Quality
    from multitrans.pipeline.repair import Checked

    registry, pool, _ = recording_setup()
    engine = pool.get(registry.models["m"])
    with TranslationMemory(tmp_path / "m.sqlite") as tm:
        tm.store([entry("Gammel.", "Alt.", engine.identity())])
        session = MemorySession.of(tm)
        tasks = {"m": {("nb", "de"): {"Gammel.": (), "Ny.": ()}}}
        plan = Plan(("de",), [], tasks)
        given: list[Plan] = []
        returned = Checked({("m", "nb", "de", "Ny."): "Neu."}, Quality({}, {}))

        def work(todo: Plan) -> Checked:
            given.append(todo)
            return returned

        checked = session.around(plan, {"m": engine}, work)
        assert given[0].tasks == {"m": {("nb", "de"): {"Ny.": ()}}}  # the work saw only what is new
        assert plan.tasks == {"m": {("nb", "de"): {"Gammel.": (), "Ny.": ()}}}  # the plan it was given is untouched
        assert returned.translations == {("m", "nb", "de", "Ny."): "Neu."}  # and so are the work's results
        assert checked.translations == {("m", "nb", "de", "Ny."): "Neu.", ("m", "nb", "de", "Gammel."): "Alt."}
        assert session.counts.reused == 1 and session.counts.translated == 1
        assert len(tm.lookup([engine.identity().key("nb", "de", "Ny.")])) == 1  # the new one is remembered


def test_a_memory_that_cannot_be_written_says_so_when_it_opens(tmp_path, monkeypatch):
    """Read-only (file or folder): before, SQLite said so only at the first write, after all the
    translation work, as "unexpected OperationalError"; now opening refuses it, as the user's to fix."""
    path = tmp_path / "m.sqlite"
    TranslationMemory(path).close()
    connect = sqlite3.connect
    monkeypatch.setattr("multitrans.memory.store.sqlite3.connect",
                        lambda p, *a, **k: connect(f"file:{p}?mode=ro", *a, **{**k, "uri": True}))
    with pytest.raises(UserError, match=r"m\.sqlite cannot be written \(attempt to write a readonly database\); "
                                        r"make the file and its folder writable.*--no-memory"):
        TranslationMemory(path)


class _FullDisk:
    """A connection whose writes fail as on a full disk; reads go through."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __getattr__(self, name: str):
        return getattr(self.db, name)

    def __enter__(self):
        return self.db.__enter__()

    def __exit__(self, *exc):
        return self.db.__exit__(*exc)

    def executemany(self, *args):
        raise sqlite3.OperationalError("database or disk is full")


def test_a_disk_failing_under_a_write_is_a_failure_of_the_run_not_the_users(tmp_path):
    with TranslationMemory(tmp_path / "m.sqlite") as tm:
        tm._db = _FullDisk(tm._db)  # type: ignore[assignment]
        with pytest.raises(MultitransError, match="cannot write translation memory .*database or disk is full") as caught:
            tm.store([entry("Hei.", "Hallo.")])
        assert not isinstance(caught.value, UserError)
