"""Security: pickles read only by the weights-only unpickler, no remote code, safe YAML, zero network when
offline, output names that cannot leave --out, and input reads bounded in size."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from fakes import NO_MEMORY, Scripted, fake_models, make_doc  # noqa: F401 - fake_models is a fixture
from typer.testing import CliRunner

from multitrans.api import DocumentResult, BlockTranslation, write_result
from multitrans.cli import app
from multitrans.output import OutputError, output_path
from multitrans.config.registry import RegistryError, load_registry

runner = CliRunner()
SENTENCE = "Nord-Korea har sendt mange containere med ammunisjon til Russland.\n"


class _Payload:
    """Unpickling this runs a shell command: what a hostile .bin checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _pickled_copy(tiny_marian_dir: Path, target: Path, payload: object | None = None) -> Path:
    """The tiny Marian with its weights as pytorch_model.bin only, saved by torch as opus-mt
    repositories publish them; with a payload, the weights carry it (a hostile checkpoint)."""
    import torch
    from safetensors.torch import load_file

    shutil.copytree(tiny_marian_dir, target)
    weights = target / "model.safetensors"
    state = load_file(str(weights))
    if payload is not None:
        state["payload"] = payload  # pickled with its __reduce__: unpickling it runs the command
    torch.save(state, target / "pytorch_model.bin")
    weights.unlink()
    return target


def _translate(tmp_path: Path, models: Path | str, *args: str, to: str = "en", out: Path | None = None):
    article = tmp_path / "a.txt"
    article.write_text(SENTENCE, encoding="utf-8")
    out = out or tmp_path / "out"
    result = runner.invoke(app, ["translate", str(article), "--to", to, "--from", "nb", "--out", str(out),
                                 "--models", str(models), *NO_MEMORY, *args])
    return result, out


@pytest.mark.slow
def test_a_clean_pickle_only_checkpoint_loads_as_the_safetensors_one_does(tmp_path, tiny_marian_dir):
    """Many opus-mt repositories publish only pytorch_model.bin: it loads by default, through
    torch's weights-only unpickler, and translates exactly as the same weights in safetensors."""
    pickled = _pickled_copy(tiny_marian_dir, tmp_path / "pickled")
    outputs = []
    for model in (pickled, tiny_marian_dir):
        models = tmp_path / f"{model.name}.yaml"
        models.write_text(f"models:\n  m: {{engine: marian, model: {model}}}\nroutes:\n  - {{from: nb, to: en, use: m}}\n")
        result, _ = _translate(tmp_path, models, "--offline", out=tmp_path / model.name)
        assert not [line for line in result.output.splitlines() if line.startswith("warning: m")], result.output
        row = json.loads((tmp_path / model.name / "aligned" / "a.txt.jsonl").read_text(encoding="utf-8"))
        assert row["translations"]["en"]["engine"] == "marian"
        outputs.append(row["translations"]["en"]["text"])
    assert outputs[0] == outputs[1]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), ("--allow-pickle",)])  # the deprecated flag changes nothing
def test_a_hostile_pickle_is_refused_in_one_line_and_never_runs(tmp_path, tiny_marian_dir, extra):
    marker = tmp_path / "pwned"
    pickled = _pickled_copy(tiny_marian_dir, tmp_path / "hostile", payload=_Payload(marker))
    assert b"system" in (pickled / "pytorch_model.bin").read_bytes() or _zip_mentions(pickled, b"system")
    models = tmp_path / "models.yaml"
    models.write_text(f"models:\n  m: {{engine: marian, model: {pickled}}}\nroutes:\n  - {{from: nb, to: en, use: m}}\n")
    result, out = _translate(tmp_path, models, "--offline", *extra)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert "pytorch_model.bin" in line and "holds more than tensors" in line and "nothing in it was run" in line
    assert not marker.exists()
    assert not (out / "en").exists()


def _zip_mentions(model: Path, needle: bytes) -> bool:
    import zipfile

    with zipfile.ZipFile(model / "pytorch_model.bin") as bundle:
        return any(needle in bundle.read(name) for name in bundle.namelist() if name.endswith(".pkl"))


@pytest.mark.slow
def test_remote_code_is_never_trusted(tiny_marian_dir, tiny_nllb_dir, monkeypatch):
    from multitrans.engines import transformers_common
    from multitrans.engines.base import EngineOptions, ModelSpec
    from multitrans.engines.marian import MarianEngine
    from multitrans.engines.nllb import NllbEngine

    seen: list[dict] = []
    for name in ("AutoTokenizer", "AutoModelForSeq2SeqLM"):
        auto = getattr(transformers_common, name)
        real = auto.from_pretrained

        def spy(*args, _real=real, **kwargs):
            seen.append(kwargs)
            return _real(*args, **kwargs)

        monkeypatch.setattr(auto, "from_pretrained", spy)
    MarianEngine(ModelSpec("m", "marian", model=str(tiny_marian_dir)), EngineOptions(device="cpu"))
    NllbEngine(ModelSpec("n", "nllb", model=str(tiny_nllb_dir)), EngineOptions(device="cpu"))
    assert len(seen) == 4
    assert all(kwargs.get("trust_remote_code") is False and kwargs.get("local_files_only") is True for kwargs in seen)


def test_yaml_tags_in_models_yaml_execute_nothing(tmp_path):
    marker = tmp_path / "pwned"
    for text in (f"models: !!python/object/apply:os.system ['touch {marker}']\nroutes: []\n",
                 f"models:\n  a: {{engine: apertium}}\nroutes: []\nglossary: !!python/object/apply:os.system ['touch {marker}']\n",
                 f"models:\n  a: {{engine: apertium}}\nroutes: []\nglossary:\n  keep: !!python/object/new:os.system ['touch {marker}']\n"):
        path = tmp_path / "models.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RegistryError):
            load_registry(path)
    assert not marker.exists()


class NetworkGuard:
    """Every way Python opens a connection or resolves a name, refused and recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[str] = []

        def refuse(what):
            def blocked(*args, **kwargs):
                self.attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
                raise OSError(f"network blocked by the test: {what}")
            return blocked

        monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
        monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
        monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
        monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))


def test_the_network_guard_catches_a_connection(monkeypatch):
    guard = NetworkGuard(monkeypatch)
    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    with pytest.raises(OSError, match="network blocked"):
        socket.socket().connect(("127.0.0.1", 9))
    assert len(guard.attempts) == 2


@pytest.mark.slow
def test_offline_makes_zero_network_attempts(tmp_path, monkeypatch, tiny_marian_dir):
    """A hub model that is not cached, then a local one: offline, the first is reported missing
    without a single connection, and the second translates."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # --offline alone must be enough (and the CLI's setting is undone after)
    models = tmp_path / "models.yaml"
    models.write_text("models:\n  hub: {engine: nllb, model: facebook/nllb-200-distilled-600M}\n"
                      f"  local: {{engine: marian, model: {tiny_marian_dir}}}\n"
                      "routes:\n  - {from: nb, to: de, use: [hub]}\n  - {from: nb, to: en, use: [hub, local]}\n")
    guard = NetworkGuard(monkeypatch)
    result, out = _translate(tmp_path, models, "--offline", to="en,de")
    assert guard.attempts == []
    assert result.exit_code == 1, result.output
    assert "facebook/nllb-200-distilled-600M (hub) is not on this machine (offline mode)" in result.output
    row = json.loads((out / "aligned" / "a.txt.jsonl").read_text(encoding="utf-8"))
    assert row["translations"]["en"]["model"] == str(tiny_marian_dir)
    assert row["translations"]["de"]["engine"] is None


@pytest.mark.parametrize(
    "name, layout",
    [
        ("../../evil.txt", "{path}"),
        ("/etc/evil.txt", "{path}"),
        ("..", "{lang}/{name}"),
        ("a.txt", "{lang}/../../{name}"),
        ("a.txt", "/tmp/{name}"),
        ("sub/../../../evil.txt", "{lang}/{path}"),
    ],
)
def test_names_and_layouts_cannot_leave_the_output_directory(tmp_path, name, layout):
    out = tmp_path / "out"
    with pytest.raises(OutputError):
        output_path(out, layout, name, "en")


@pytest.mark.parametrize("name", ["a\x00b.txt", "a\nb.txt", "a\x1b[31mred.txt", "a\rb.txt"])
def test_names_with_control_characters_are_refused(tmp_path, name):
    with pytest.raises(OutputError, match="control character"):
        output_path(tmp_path / "out", "{lang}/{name}", name, "en")


def _result(name: str) -> DocumentResult:
    doc = make_doc("Hei.", name=name)
    return DocumentResult(doc, "nb", 1.0, ("nb",), {"en": [BlockTranslation("Hi.", "nllb", "x/m", attempt="first")]})


def test_a_symlink_inside_the_output_directory_that_leads_out_is_not_followed(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "en").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="outside the output directory"):
        write_result(_result("a.txt"), out)
    assert list(elsewhere.iterdir()) == []
    (out / "en").unlink()
    (out / "en").mkdir()
    (out / "en" / "a.txt").symlink_to(elsewhere / "victim.txt")
    with pytest.raises(OutputError):
        write_result(_result("a.txt"), out)
    assert list(elsewhere.iterdir()) == []


def test_an_input_path_with_directories_writes_under_its_own_name_only(tmp_path, fake_models):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    deep = tmp_path / "deep" / "er"
    deep.mkdir(parents=True)
    (deep / "a.txt").write_text(SENTENCE, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(deep / ".." / "er" / "a.txt"), "--to", "en", "--from", "nb",
                                 "--out", str(out), "--models", models, *NO_MEMORY, "--layout", "{path}.{lang}"])
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["a.txt.en", "aligned/a.txt.jsonl"]


class _Endless(io.RawIOBase):
    """Standard input that never ends (think `cat /dev/zero`); records how much was asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "read everything from an endless stream"
        self.asked.append(size)
        return b"a" * size


def test_standard_input_is_read_only_up_to_the_size_limit(fake_models, monkeypatch):
    models = fake_models({"m": lambda s, o: Scripted(s, o)})
    endless = _Endless()
    monkeypatch.setattr("typer.testing.make_input_stream", lambda input, charset: endless)
    result = runner.invoke(app, ["translate", "-", "--to", "en", "--models", models, "--max-size", "1MB"])
    assert result.exit_code == 2
    assert "standard input is over the 1.0 MB input limit" in result.output
    assert sum(endless.asked) == 1_000_001  # the limit and one byte more, never the whole stream
