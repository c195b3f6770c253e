"""engine: argos on the real OPUS-MT zh→en package (scripts/setup.sh fetches it; see conftest.argos_zh_en).

The package is found as a file, an unpacked directory or an installed name; it states its
name and version as its identity; it serves only its pair; and it works through every
route text takes (translate, batch and --check, memory, XLIFF).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from multitrans.config.catalog import model_status
from multitrans.config.registry import RegistryError, load_registry
from multitrans.engines import EngineOptions, ModelSpec, ModelUnavailable, load_engine
from multitrans.engines.argos import ArgosPackageError, package_dirs, peek_package, read_package, unpack
from multitrans.engines.identity import expected_identity
from samples import NTREX_TEST

pytestmark = pytest.mark.slow

CHINESE = (NTREX_TEST / "zho-CN.txt").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def unpacked(argos_zh_en: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return read_package(unpack(argos_zh_en, tmp_path_factory.mktemp("argos"))).path


@pytest.fixture(scope="module")
def engine(argos_zh_en: Path, tmp_path_factory: pytest.TempPathFactory):
    options = EngineOptions(device="cpu", cache_dir=str(tmp_path_factory.mktemp("hf") / "hub"))
    loaded = load_engine(ModelSpec("zh-en", "argos", str(argos_zh_en)), options)
    yield loaded
    loaded.close()


def _registry(tmp_path: Path, model: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(f"models:\n  zh-en: {{engine: argos, model: '{model}'}}\n"
                    "routes:\n  - {from: zh, to: en, use: [zh-en]}\n", encoding="utf-8")
    return path


def test_metadata_gives_the_pair_name_and_version(unpacked: Path, argos_zh_en: Path) -> None:
    package = read_package(unpacked)
    assert (package.name, package.version, package.source, package.target) == ("translate-zh_en", "1.9", "zh", "en")
    assert peek_package(ModelSpec("zh-en", "argos", str(argos_zh_en))) == type(package)(
        argos_zh_en, "translate-zh_en", "1.9", "zh", "en")


def test_unpacking_is_done_once_per_content(argos_zh_en: Path, tmp_path: Path) -> None:
    first = unpack(argos_zh_en, tmp_path)
    marker = first / "touched"
    marker.write_text("x")
    assert unpack(argos_zh_en, tmp_path) == first and marker.exists()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial directory left behind


def test_a_file_that_is_not_a_package_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.argosmodel"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ArgosPackageError, match="is not an Argos package"):
        unpack(bogus, tmp_path / "cache")
    empty = tmp_path / "empty.argosmodel"
    with zipfile.ZipFile(empty, "w") as bundle:
        bundle.writestr("pkg/README.md", "hello")
    with pytest.raises(ArgosPackageError, match="metadata.json"):
        peek_package(ModelSpec("x", "argos", str(empty)))


def test_installed_packages_are_found_in_argos_translates_folder(unpacked: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "packages"
    folder.mkdir()
    (folder / "translate-zh_en-1_9").symlink_to(unpacked, target_is_directory=True)
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(folder))
    assert package_dirs() == [folder]
    for name in ("translate-zh_en-1_9", "translate-zh_en"):  # directory name, argospm name
        assert peek_package(ModelSpec("zh-en", "argos", name)).path == folder / "translate-zh_en-1_9"
    monkeypatch.delenv("ARGOS_PACKAGES_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert package_dirs() == [tmp_path / "data" / "argos-translate" / "packages"]
    assert peek_package(ModelSpec("zh-en", "argos", "translate-zh_en")) is None
    with pytest.raises(ModelUnavailable, match="argos-translate/packages"):
        load_engine(ModelSpec("zh-en", "argos", "translate-zh_en"), EngineOptions(device="cpu"))


def test_registry_accepts_argos_and_resolves_a_package_beside_it(argos_zh_en: Path, tmp_path: Path) -> None:
    (tmp_path / "zh_en.argosmodel").symlink_to(argos_zh_en)
    registry = load_registry(_registry(tmp_path, "zh_en.argosmodel"))
    spec = registry.models["zh-en"]
    assert spec.engine == "argos" and spec.model == str((tmp_path / "zh_en.argosmodel").resolve())
    assert model_status(spec)["present"] is True
    assert model_status(ModelSpec("gone", "argos", str(tmp_path / "gone.argosmodel")))["present"] is False
    (tmp_path / "models.yaml").write_text("models:\n  zh-en: {engine: argos}\nroutes: []\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="argosmodel file"):
        load_registry(tmp_path / "models.yaml")


def test_identity_is_the_package_name_and_version_and_check_predicts_it(engine, argos_zh_en: Path) -> None:
    identity = engine.identity()
    assert (identity.engine, identity.model, identity.revision) == ("argos", "translate-zh_en", "1.9")
    assert identity.runtime.startswith("ctranslate2-") and identity.quantization in ("int8", "float32")
    assert json.loads(identity.decoding) == {"beam": 4}  # what argos-translate decodes with, unless --beam says
    expected = expected_identity(ModelSpec("zh-en", "argos", str(argos_zh_en)), EngineOptions(device="cpu"))
    assert expected.changes(identity.as_dict()) == []
    four = expected_identity(ModelSpec("zh-en", "argos", str(argos_zh_en)), EngineOptions(device="cpu", beam=4))
    assert four.changes(identity.as_dict()) == []  # the default, asked for: the same identity
    greedy = expected_identity(ModelSpec("zh-en", "argos", str(argos_zh_en)), EngineOptions(device="cpu", beam=1))
    assert greedy.changes(identity.as_dict()) == ['decoding {"beam":4} → {"beam":1}']


def test_a_new_package_version_is_a_new_memory_key(engine, unpacked: Path, tmp_path: Path) -> None:
    newer = tmp_path / "translate-zh_en-2_0"
    newer.mkdir()
    for child in unpacked.iterdir():
        if child.name != "metadata.json":
            (newer / child.name).symlink_to(child)
    metadata = json.loads((unpacked / "metadata.json").read_text(encoding="utf-8"))
    (newer / "metadata.json").write_text(json.dumps({**metadata, "package_version": "2.0"}), encoding="utf-8")
    spec = ModelSpec("zh-en", "argos", str(newer))
    assert expected_identity(spec, EngineOptions(device="cpu")).changes(engine.identity().as_dict()) == ["revision 1.9 → 2.0"]
    other = load_engine(spec, EngineOptions(device="cpu"))
    try:
        assert other.identity().key("zh", "en", CHINESE[0]) != engine.identity().key("zh", "en", CHINESE[0])
    finally:
        other.close()


def test_a_package_serves_only_its_own_pair(engine) -> None:
    engine.check("zh", "en")
    with pytest.raises(ModelUnavailable, match="translates zh→en, not en→zh"):
        engine.check("en", "zh")


def test_tokens_counted_and_unknown_characters_as_the_model_sees_them(engine) -> None:
    [count] = engine.count_tokens(["威尔士国民议会"])
    assert count == len(engine.tokenizer.encode("威尔士国民议会")) + 1  # and the </s>
    assert engine.unknown_characters("威尔士 🦜 AM") == {"🦜"}


def test_whole_job_output_keeps_order_and_blank_rows(engine) -> None:
    rows = [(CHINESE[2], "zh", "en"), ("", "zh", "en"), (CHINESE[0], "zh", "en")]
    out = engine.translate_multi(rows)
    assert out[1] == "" and out[0] == engine.translate([CHINESE[2]], "zh", "en")[0]
    assert out[2].startswith("Members of the National Assembly")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multitrans", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "MULTITRANS_CT2_CACHE": str(cwd / "ct2")}, timeout=600)


def test_batch_memory_check_and_xliff_with_an_argos_package(argos_zh_en: Path, tmp_path: Path) -> None:
    registry = _registry(tmp_path, str(argos_zh_en))
    archive = tmp_path / "archive"
    archive.mkdir()
    for name, lines in (("a.txt", CHINESE[:3]), ("b.txt", CHINESE[3:5])):
        (archive / name).write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    common = ("--to", "en", "--from", "zh", "--models", str(registry), "--offline", "--out", str(tmp_path / "out"))
    first = _cli("batch", str(archive), *common, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["segments_translated"] >= 5
    aligned = [json.loads(line) for line in (tmp_path / "out" / "aligned" / "a.txt.jsonl").read_text().splitlines()]
    assert {(r["translations"]["en"]["engine"], r["translations"]["en"]["model"]) for r in aligned} == {("argos", "translate-zh_en")}
    assert all(r["translations"]["en"]["decoding"] == {"beam": 4} for r in aligned)  # recorded, as used
    assert _cli("batch", str(archive), *common, "--check", cwd=tmp_path).returncode == 0
    assert _cli("batch", str(archive), *common, "--check", "--beam", "4", cwd=tmp_path).returncode == 0  # the default
    stale = _cli("batch", str(archive), *common, "--check", "--beam", "1", cwd=tmp_path)
    assert stale.returncode == 1 and '{"beam":1}' in stale.stdout + stale.stderr
    (archive / "c.txt").write_text(CHINESE[0] + "\n", encoding="utf-8")  # a sentence the memory has
    again = _cli("batch", str(archive), *common, "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["segments_reused"] >= 1 and json.loads(again.stdout)["segments_translated"] == 0
    exported = _cli("export", str(archive / "a.txt"), "--to", "en", "--from", "zh", "--models", str(registry), "--offline",
                    "--format", "xliff", "--out", str(tmp_path / "xliff"), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    xliff = (tmp_path / "xliff" / "a.txt.en.xlf").read_text(encoding="utf-8")
    assert "translate-zh_en" in xliff and "Members of the National Assembly" in xliff


def test_models_pull_fetches_the_package_the_index_links_and_checks_its_digest(
    argos_zh_en: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index and its link are file:// URLs here (no network in tests); over https it is the same code."""
    import hashlib

    from multitrans.config.catalog import pull_routes

    repository = tmp_path / "index"
    repository.mkdir()
    (repository / "index.json").write_text(json.dumps([
        {"type": "translate", "from_code": "en", "to_code": "de", "package_version": "1.0", "links": ["file:///nowhere"]},
        {"type": "translate", "from_code": "zh", "to_code": "en", "package_version": "1.9",
         "links": [argos_zh_en.as_uri()]}]), encoding="utf-8")
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", repository.as_uri())
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "packages"))
    digest = hashlib.sha256(argos_zh_en.read_bytes()).hexdigest()
    said: list[str] = []

    def pull(model: str, sha256: str) -> list[str]:
        registry = tmp_path / "models.yaml"
        registry.write_text(f"models:\n  zh-en: {{engine: argos, model: '{model}', sha256: '{sha256}'}}\n"
                            "routes:\n  - {from: zh, to: en, use: [zh-en]}\n", encoding="utf-8")
        return pull_routes(load_registry(registry), ["zh"], ["en"], said.append)

    assert pull(str(tmp_path / "m" / "zh_en.argosmodel"), "0" * 64) == ["zh→en"]
    assert "does not have the SHA-256" in said[0] and not (tmp_path / "m" / "zh_en.argosmodel").exists()
    assert pull(str(tmp_path / "m" / "zh_en.argosmodel"), digest) == []
    assert (tmp_path / "m" / "zh_en.argosmodel").read_bytes() == argos_zh_en.read_bytes()
    assert pull("translate-zh_en", digest) == []  # an installed name: installed as argos-translate does
    assert (tmp_path / "packages" / "translate-zh_en-1_9" / "metadata.json").is_file()
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", (tmp_path / "gone").as_uri())
    assert pull("translate-zh_en", digest) == []  # present: the index is not even read
    assert "Argos package translate-zh_en 1.9" in said[-1]


class _CountingTranslator:
    """The engine's CTranslate2 translator, counting the batches it is given."""

    def __init__(self, real) -> None:
        self.real, self.batches = real, []

    def translate_batch(self, batch, **kwargs):
        self.batches.append(len(batch))
        return self.real.translate_batch(batch, **kwargs)


def test_beam_search_is_not_cut_into_a_batch_per_output_budget(engine) -> None:
    """Beam 4 was twice as slow as bare CTranslate2: batches were cut wherever the rows' output
    budgets differed, nearly one per input length.  Now only rows whose search reached their
    own budget are searched again; every other row is what it is decoded alone."""
    from multitrans.engines.base import Decoding

    rows = [(text, "zh", "en") for text in CHINESE[:24]]
    budgets = {engine.output_tokens(n) for n in engine.count_tokens([text for text, _, _ in rows])}
    counting = _CountingTranslator(engine.translator)
    engine.translator = counting
    try:
        together = engine.translate_multi(rows, decoding=Decoding(beam=4))
    finally:
        engine.translator = counting.real
    assert len(budgets) > 10 and len(counting.batches) <= 4, counting.batches
    alone = [engine.translate_multi([row], decoding=Decoding(beam=4))[0] for row in rows[:8]]
    assert together[:8] == alone
