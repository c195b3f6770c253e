"""A recording engine and detector for tests of the memory and batch jobs (no models, no subprocesses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from multitrans.engines.base import Engine, EngineOptions, ModelSpec
from multitrans.engines.pool import EnginePool
from multitrans.config.registry import Registry, Route


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


@dataclass
class _Detected:
    lang: str | None
    confidence: float


@dataclass
class _DocumentDetected:
    lang: str
    confidence: float
    blocks: list


class Norwegian:
    """Every document is Bokmål and no block or output is told apart (the real detector costs a
    second per test, and would judge the recording engine's output as no language at all)."""

    def detect_document(self, texts: Sequence[str]) -> _DocumentDetected:
        return _DocumentDetected("nb", 0.99, [_Detected(None, 0.0) for _ in texts])

    def detect(self, text: str) -> _Detected:
        return _Detected(None, 0.0)


def recording_setup(revision: str = "r1", beam: int = 1) -> tuple[Registry, EnginePool, dict[str, Recording]]:
    """A registry whose one route sends everything to a recording 'nllb' model, and a pool that loads it."""
    spec = ModelSpec("m", "nllb", model="x/m", revision=revision)
    registry = Registry("test.yaml", {"m": spec}, (Route(frozenset({"*"}), frozenset({"*"}), ("m",)),))
    loaded: dict[str, Recording] = {}

    def loader(spec: ModelSpec, options: EngineOptions) -> Recording:
        loaded[spec.name] = Recording(spec, options)
        return loaded[spec.name]

    return registry, EnginePool(EngineOptions(beam=beam), loader), loaded
