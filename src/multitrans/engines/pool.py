"""The engines one run has loaded: each model is loaded at most once and serves every pair routed to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .base import Engine, EngineError, EngineOptions, ModelSpec, OptionsError
from .pivot import FirstHop, PivotEngine, PivotSpec, new_pivot

Loader = Callable[[ModelSpec, EngineOptions], Engine]


class EnginePool:
    """Loads engines on first use, remembers failures, and picks the first usable route."""

    def __init__(self, options: EngineOptions, loader: Loader | None = None) -> None:
        if loader is None:
            from . import load_engine as loader
        self.options = options
        self._loader = loader
        self._engines: dict[str, Engine] = {}
        self._failures: dict[str, EngineError] = {}
        self._first_hops: dict[str, FirstHop] = {}

    def get(self, spec: ModelSpec) -> Engine:
        """The loaded engine for `spec`; raises the (remembered) EngineError when it cannot load.
        A pivot route is composed of the engines its hops choose (pivot.py), and listed under its own name."""
        if isinstance(spec, PivotSpec):
            pivots = {name: e for name, e in self._engines.items() if isinstance(e, PivotEngine)}
            engine, reasons = new_pivot(spec, self.choose, self._first_hops, pivots)
            if engine is None:
                raise EngineError("; ".join(reasons))
            return self._engines.setdefault(engine.spec.name, engine)
        if spec.name in self._failures:
            raise self._failures[spec.name]
        if spec.name not in self._engines:
            try:
                self._engines[spec.name] = self._loader(spec, self.options)
            except EngineError as exc:
                self._failures[spec.name] = exc
                raise
        return self._engines[spec.name]

    def choose(self, candidates: Sequence[ModelSpec], src: str, tgt: str) -> tuple[Engine | None, list[str]]:
        """The first candidate that loads and serves src→tgt, plus why each earlier one was passed over."""
        reasons: list[str] = []
        for spec in candidates:
            try:
                engine = self.get(spec)
                engine.check(src, tgt)
                return engine, reasons
            except OptionsError:
                raise
            except EngineError as exc:
                reasons.append(f"{spec.name}: {exc}")
        return None, reasons

    @property
    def loaded(self) -> dict[str, Engine]:
        return dict(self._engines)

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()
        self._first_hops.clear()
