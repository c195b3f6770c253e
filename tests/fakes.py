"""The fake engines, detectors, documents and registries the tests share (one set for all).

`Scripted` and `ScriptedDetector` serve the quality, repair, bad-input and fault tests:
real tiny models write random text, so every quality flag would fire on them all the
time; these fakes produce controlled failures instead (loops, copies, dropped
characters, wrong language, exceptions) so the tests can assert the flags and the
repair path exactly.  The fake "translation" reverses every plain word and leaves
numbers, URLs and other tokens alone, as a real model copies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import huggingface_hub.constants
import pytest

from multitrans.config.registry import Registry, Route
from multitrans.document import TemplateBuilder
from multitrans.engines.base import (
    Decoding,
    Engine,
    EngineOptions,
    ModelSpec,
    ModelUnavailable,
)
from multitrans.engines.pool import EnginePool


def offline_with_own_ct2_cache(patch: pytest.MonkeyPatch, cache: Path) -> None:
    """No network for the hub, and CTranslate2 conversions in `cache`, never the user's."""
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    patch.setenv("MULTITRANS_CT2_CACHE", str(cache))


def tiny_spec(kind: str, directory: Path, **fields) -> ModelSpec:
    """A models.yaml entry for one of the tiny checkpoints (Marian ones are multi-target, >>xx<<)."""
    extra = {"target_token": ">>{code}<<"} if kind == "marian" else {}
    return ModelSpec(name=f"tiny-{kind}", engine=kind, model=str(directory), **{**extra, **fields})


_PLAIN = re.compile(r"^([^\W\d_]+)([.,!?;:]*)$")


def reverse_words(text: str) -> str:
    """The fake translation: every plain word reversed (so it is no copy), all else kept."""
    return " ".join(
        (m.group(1)[::-1] + m.group(2)) if (m := _PLAIN.match(token)) else token for token in text.split(" ")
    )


Script = Callable[[str, str, str, "Decoding | None"], str]


@dataclass
class Call:
    segments: tuple[str, ...]
    src: str
    tgt: str
    decoding: Decoding | None


class Scripted(Engine):
    """Translates with `script(text, src, tgt, decoding)` (default: reverse_words); records calls.

    `raise_on`: a substring ("" for all); a call containing a segment with it raises, as a CUDA or
    subprocess failure would.  `vocabulary`: when set, characters outside it are
    "unknown" and the engine drops everything from the first of them on, the worst a
    model does with a character it cannot represent.
    """

    tunable_decoding = True

    def __init__(self, spec: ModelSpec, options: EngineOptions, script: Script | None = None,
                 raise_on: str | None = None, vocabulary: str | None = None, limit: int | None = None) -> None:
        super().__init__(spec, options)
        self.script = script or (lambda text, src, tgt, decoding: reverse_words(text))
        self.raise_on = raise_on
        self.vocabulary = set(vocabulary) if vocabulary else None
        self.limit = limit
        self.calls: list[Call] = []

    @property
    def max_input_tokens(self) -> int | None:
        return self.limit

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def unknown_characters(self, text: str) -> set[str]:
        if self.vocabulary is None:
            return set()
        return {c for c in text if not c.isspace() and c not in self.vocabulary}

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        self.calls.append(Call(tuple(segments), src, tgt, decoding))
        if self.limit is not None:
            too_long = [s for s in segments if len(s.split()) > self.limit]
            assert not too_long, f"segment over the input limit reached the engine: {too_long[0][:60]}"
        if self.raise_on is not None and any(self.raise_on in s for s in segments):
            raise RuntimeError(f"engine crashed on {self.raise_on!r}")
        out = []
        for text in segments:
            if self.vocabulary is not None:
                cut = next((i for i, c in enumerate(text) if not c.isspace() and c not in self.vocabulary), None)
                text = text if cut is None else text[:cut]
            out.append(self.script(text, src, tgt, decoding))
        return out

    @property
    def segments(self) -> list[str]:
        return [s for call in self.calls for s in call.segments]


class Untunable(Engine):
    """An engine written before `decoding` existed (as a third-party one may be): its translate
    takes no such argument, so passing one would raise TypeError."""

    def __init__(self, spec: ModelSpec, options: EngineOptions, script: Script) -> None:
        super().__init__(spec, options)
        self.script = script
        self.calls: list[tuple[str, ...]] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def translate(self, segments, src, tgt):  # type: ignore[override]  # deliberately the old signature
        self.calls.append(tuple(segments))
        return [self.script(s, src, tgt, None) for s in segments]


@dataclass
class Detected:
    lang: str | None
    confidence: float


@dataclass
class DocumentDetected:
    lang: str
    confidence: float
    blocks: list = field(default_factory=list)


class ScriptedDetector:
    """The document is `doc_lang`; a text containing a key of `langs` reads as its language,
    anything else as nothing (too short or unsure), as the real detector says of reversed words."""

    def __init__(self, doc_lang: str = "nb", langs: dict[str, str] | None = None) -> None:
        self.doc_lang = doc_lang
        self.langs = langs or {}

    def detect(self, text: str, *, target: str | None = None) -> Detected:
        for marker, lang in self.langs.items():
            if marker in text:
                return Detected(lang, 0.95)
        return Detected(None, 0.0)

    def detect_many(self, texts: Sequence[str], *, target: str | None = None) -> list[Detected]:
        return [self.detect(t, target=target) for t in texts]

    def detect_document(self, texts: Sequence[str]) -> DocumentDetected:
        return DocumentDetected(self.doc_lang, 0.99, [self.detect(t) for t in texts])


def make_doc(*texts: str, name: str = "a.txt"):
    """A plain-text document with one paragraph block per text, blank lines between, ending in a newline."""
    builder = TemplateBuilder()
    for i, text in enumerate(texts):
        if i:
            builder.literal("\n\n")
        builder.block("paragraph", text)
    builder.literal("\n")
    return builder.build(name, "text")


def registry_of(*models: str, routes: Sequence[tuple[set[str], set[str], Sequence[str]]] | None = None) -> Registry:
    """A registry of fake models named `models` (as 'nllb' specs with hub ids x/<name>); by default one
    route from anything to anything through all of them, in order."""
    specs = {m: ModelSpec(m, "nllb", model=f"x/{m}") for m in models}
    routes = routes or [({"*"}, {"*"}, models)]
    return Registry("test.yaml", specs, tuple(Route(frozenset(a), frozenset(b), tuple(u)) for a, b, u in routes))


def pool_of(engines: dict[str, Engine | Callable[[ModelSpec, EngineOptions], Engine] | None],
            options: EngineOptions | None = None) -> EnginePool:
    """A pool whose loader hands out the given engines by model name (None: not on this machine)."""

    def loader(spec: ModelSpec, options: EngineOptions) -> Engine:
        made = engines.get(spec.name)
        if made is None:
            raise ModelUnavailable(f"{spec.model} is not on this machine")
        return made(spec, options) if callable(made) and not isinstance(made, Engine) else made

    return EnginePool(options or EngineOptions(), loader)


def spec(name: str = "m") -> ModelSpec:
    return ModelSpec(name, "nllb", model=f"x/{name}")


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """For CLI tests: a models.yaml of fake 'nllb' models whose engines the test supplies.

    Returns install(engines: {name: factory}, routes_yaml) -> path of the registry; the real
    `load_engine` is replaced so the CLI's own pool builds the fakes.
    """

    def install(engines: dict[str, Callable[[ModelSpec, EngineOptions], Engine]], routes: str | None = None,
                extra: str = "") -> str:
        lines = ["models:"] + [f"  {name}: {{engine: nllb, model: x/{name}}}" for name in engines]
        lines.append("routes:")
        lines.append(routes or f"  - {{from: '*', to: '*', use: [{', '.join(engines)}]}}")
        path = tmp_path / "models.yaml"
        path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")

        def load(spec: ModelSpec, options: EngineOptions) -> Engine:
            if spec.name not in engines:
                raise ModelUnavailable(f"{spec.model} is not on this machine")
            return engines[spec.name](spec, options)

        monkeypatch.setattr("multitrans.engines.load_engine", load)
        return str(path)

    return install


# Every CLI test run stands alone: `translate` keeps a translation memory under --out by
# default; it is switched off, so a second run does not recall the first one's output.
NO_MEMORY: list[str] = ["--no-memory"]


# Recording engines for the memory and batch tests (no models, no subprocesses).


class Recording(Engine):
    """Upper-cases text and records every segment it is asked to translate."""

    def __init__(self, spec: ModelSpec, options: EngineOptions) -> None:
        super().__init__(spec, options)
        self.calls: list[tuple[tuple[str, ...], str, str]] = []

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: object = None) -> list[str]:
        self.calls.append((tuple(segments), src, tgt))
        return [f"{s.upper()} [{tgt}]" for s in segments]

    @property
    def segments(self) -> list[str]:
        return [s for segments, _, _ in self.calls for s in segments]


class Norwegian:
    """Every document is Bokmål and no block or output is told apart (the real detector costs a
    second per test, and would judge the recording engine's output as no language at all)."""

    def detect_document(self, texts: Sequence[str]) -> DocumentDetected:
        return DocumentDetected("nb", 0.99, [Detected(None, 0.0) for _ in texts])

    def detect(self, text: str, *, target: str | None = None) -> Detected:
        return Detected(None, 0.0)

    def detect_many(self, texts: Sequence[str], *, target: str | None = None) -> list[Detected]:
        return [Detected(None, 0.0) for _ in texts]


def recording_setup(revision: str = "r1", beam: int = 1) -> tuple[Registry, EnginePool, dict[str, Recording]]:
    """A registry whose one route sends everything to a recording 'nllb' model, and a pool that loads it."""
    spec = ModelSpec("m", "nllb", model="x/m", revision=revision)
    registry = Registry("test.yaml", {"m": spec}, (Route(frozenset({"*"}), frozenset({"*"}), ("m",)),))
    loaded: dict[str, Recording] = {}

    def loader(spec: ModelSpec, options: EngineOptions) -> Recording:
        loaded[spec.name] = Recording(spec, options)
        return loaded[spec.name]

    return registry, EnginePool(EngineOptions(beam=beam), loader), loaded
