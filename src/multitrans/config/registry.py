"""models.yaml: which engines and models exist, and which serve each language pair.

The file is read as a YAML node tree with every scalar kept as the string the user
wrote, so an unquoted `no` (Norwegian) or `on` is a language code, never a boolean,
and every error can name the file, line and key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import yaml

from ..engines.base import ModelSpec
from ..engines.identity import CONVERTIBLE
from ..engines.pivot import PivotSpec
from ..errors import UserError
from .glossary import Glossary, GlossaryError, parse_glossary
from ..languages import UnknownLanguage, normalize
from .yamlfile import compose_file

ENGINES = ("marian", "nllb", "apertium", "argos")
_MODEL_KEYS = {"engine", "model", "revision", "target_token", "target_codes", "max_input_tokens", "options", "runtime",
               "sha256"}
_ROUTE_KEYS = {"from", "to", "use", "runtime", "via"}
# auto: CTranslate2 when a converted copy is on the machine (`multitrans models convert`), else transformers.
RUNTIMES = ("auto", "ct2", "transformers")
ANY = "*"


class RegistryError(UserError):
    """models.yaml is malformed; the message names file, line and key."""


@dataclass(frozen=True)
class Route:
    sources: frozenset[str]  # normalized codes, or {"*"}
    targets: frozenset[str]
    use: tuple[str, ...]
    runtime: str | None = None  # overrides the runtime of the models this route uses
    via: str | None = None  # a pivot route: src→via, then via→tgt (engines/pivot.py)
    hops: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # a pivot's models per hop, when `use:` names them

    def matches(self, src: str, tgt: str) -> bool:
        return (ANY in self.sources or src in self.sources) and (ANY in self.targets or tgt in self.targets)


@dataclass(frozen=True)
class Registry:
    path: str
    models: dict[str, ModelSpec]
    routes: tuple[Route, ...] = field(default=())
    glossary: Glossary = field(default_factory=Glossary)  # the file's `glossary:` section

    def candidates(self, src: str, tgt: str, pivots: bool = True) -> list[ModelSpec]:
        """Models that serve src→tgt, most preferred first (all matching routes, in file order).
        A pivot route is one candidate (a PivotSpec) holding each hop's candidates; hops never pivot."""
        seen: dict[str, ModelSpec] = {}
        for route in self.routes:
            if route.matches(src, tgt) and route.via is not None:
                pivot = self._pivot(route, route.via, src, tgt) if pivots else None
                if pivot is not None:
                    seen.setdefault(pivot.name, pivot)
            elif route.matches(src, tgt):
                for name in route.use:
                    spec = self.models[name]
                    if route.runtime and route.runtime != spec.runtime and spec.engine in CONVERTIBLE:
                        # Its own name, so the pool loads this runtime's copy apart from the model's default.
                        spec = replace(spec, name=f"{name}@{route.runtime}", runtime=route.runtime)
                    seen.setdefault(name, spec)  # a model once, as the first route naming it runs it
        return list(seen.values())

    def _pivot(self, route: Route, via: str, src: str, tgt: str) -> PivotSpec | None:
        if via in (src, tgt):
            return None
        if route.hops is not None:
            first = [self.models[n] for n in route.hops[0]]
            second = [self.models[n] for n in route.hops[1]]
            name = f"via {via}: {'|'.join(route.hops[0])} → {'|'.join(route.hops[1])}"
        else:
            # A model that serves src→tgt itself (a many-to-many catch-all) is no hop: its own route runs it directly.
            direct = {spec.name for spec in self.candidates(src, tgt, pivots=False)}
            first, second = ([s for s in self.candidates(a, b, pivots=False) if s.name not in direct]
                             for a, b in ((src, via), (via, tgt)))
            name = f"via {via}"
        if not first or not second:
            return None
        return PivotSpec(name=name, engine="pivot", src=src, tgt=tgt, via=via, first=tuple(first), second=tuple(second))

    def route_names(self, src: str, tgt: str) -> list[str]:
        return [spec.describe() if isinstance(spec, PivotSpec) else spec.name for spec in self.candidates(src, tgt)]


def default_path() -> Path:
    return Path(str(resources.files("multitrans.config") / "models.yaml"))


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate a registry; the packaged default when `path` is None."""
    file = Path(path) if path else default_path()
    root = compose_file(file, "model registry", RegistryError)
    return _Parser(file).registry(root)


class _Parser:
    """Walks the composed YAML nodes so every complaint can point at a line."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, node: yaml.Node, key: str, message: str) -> RegistryError:
        return RegistryError(f"{self.file}:{node.start_mark.line + 1}: key '{key}': {message}")

    def mapping(self, node: yaml.Node | None, key: str) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node or yaml.ScalarNode("", ""), key, "expected a mapping")
        for k, v in node.value:
            yield self.scalar(k, key), k, v

    def scalar(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, key, "expected a single value")
        return node.value

    def strings(self, node: yaml.Node, key: str) -> list[str]:
        if isinstance(node, yaml.SequenceNode):
            return [self.scalar(n, key) for n in node.value]
        return [s.strip() for s in self.scalar(node, key).split(",") if s.strip()]

    def language(self, code: str, node: yaml.Node, key: str) -> str:
        if code == ANY:
            return ANY
        try:
            return normalize(code)
        except UnknownLanguage as exc:
            raise self.fail(node, key, str(exc)) from exc

    def registry(self, root: yaml.Node | None) -> Registry:
        if root is None:
            raise RegistryError(f"{self.file}: the registry is empty; it needs 'models' and 'routes'")
        sections = {name: (knode, vnode) for name, knode, vnode in self.mapping(root, "(top level)")}
        for name, (knode, _) in sections.items():
            if name not in ("models", "routes", "glossary"):
                raise self.fail(knode, name, "unknown section; expected 'models', 'routes' and optionally 'glossary'")
        if "models" not in sections or "routes" not in sections:
            raise RegistryError(f"{self.file}: the registry needs both a 'models' and a 'routes' section")
        models = {name: self.model(name, v) for name, _, v in self.mapping(sections["models"][1], "models")}
        routes_node = sections["routes"][1]
        if not isinstance(routes_node, yaml.SequenceNode):
            raise self.fail(routes_node, "routes", "expected a list of routes")
        routes = tuple(self.route(n, models) for n in routes_node.value)
        glossary = Glossary()
        if "glossary" in sections:
            try:
                glossary = parse_glossary(sections["glossary"][1], self.file, prefix="glossary.")
            except GlossaryError as exc:
                raise RegistryError(str(exc)) from exc
        return Registry(str(self.file), models, routes, glossary)

    def model(self, name: str, node: yaml.Node) -> ModelSpec:
        values: dict[str, object] = {}
        for key, knode, vnode in self.mapping(node, name):
            if key not in _MODEL_KEYS:
                raise self.fail(knode, f"models.{name}.{key}", f"unknown key; expected one of {', '.join(sorted(_MODEL_KEYS))}")
            if key == "target_codes":
                values[key] = {self.language(k, kn, f"models.{name}.target_codes"): self.scalar(v, key)
                               for k, kn, v in self.mapping(vnode, key)}
            elif key == "options":
                values[key] = {**values.get(key, {}), **{k: self.scalar(v, k) for k, _, v in self.mapping(vnode, key)}}
            elif key == "sha256":  # what `models pull` checks a downloaded Argos package against
                digest = self.scalar(vnode, key).lower()
                if not re.fullmatch(r"[0-9a-f]{64}", digest):
                    raise self.fail(vnode, f"models.{name}.sha256", "expected 64 hexadecimal digits")
                values["options"] = {**values.get("options", {}), "sha256": digest}
            elif key == "runtime":
                values[key] = self.runtime(vnode, f"models.{name}.runtime")
            elif key == "max_input_tokens":
                raw = self.scalar(vnode, key)
                if not raw.isdigit() or int(raw) < 1:
                    raise self.fail(vnode, f"models.{name}.{key}", f"expected a positive whole number, got '{raw}'")
                values[key] = int(raw)
            else:
                values[key] = self.scalar(vnode, key)
        engine = values.get("engine")
        if engine not in ENGINES:
            raise self.fail(node, f"models.{name}.engine", f"expected one of {', '.join(ENGINES)}, got {engine!r}")
        if engine != "apertium" and not values.get("model"):
            what = "a .argosmodel file, package directory or installed package" if engine == "argos" else "a hub id or local directory"
            raise self.fail(node, f"models.{name}.model", f"{what} is required")
        model = values.get("model")
        if isinstance(model, str) and (model.startswith((".", "/", "~"))
                                       or (engine == "argos" and (self.file.parent / model).exists())):
            values["model"] = str((self.file.parent / Path(model).expanduser()).resolve())
        return ModelSpec(name=name, **values)  # type: ignore[arg-type]

    def route(self, node: yaml.Node, models: dict[str, ModelSpec]) -> Route:
        fields = {key: (knode, vnode) for key, knode, vnode in self.mapping(node, "routes[]")}
        for key, (knode, _) in fields.items():
            if key not in _ROUTE_KEYS:
                raise self.fail(knode, f"routes.{key}", "unknown key; a route has 'from', 'to', 'use' and optionally 'runtime' or 'via'")
        for key in ("from", "to") if "via" in fields else ("from", "to", "use"):
            if key not in fields:
                raise self.fail(node, f"routes.{key}", "missing")
        langs = {}
        for key in ("from", "to"):
            vnode = fields[key][1]
            langs[key] = frozenset(self.language(c, vnode, f"routes.{key}") for c in self.strings(vnode, key))
        if "via" in fields:
            return self.pivot_route(fields, langs["from"], langs["to"], models)
        use_node = fields["use"][1]
        use = tuple(self.strings(use_node, "use"))
        self.known(use, use_node, models)
        runtime = self.runtime(fields["runtime"][1], "routes.runtime") if "runtime" in fields else None
        return Route(langs["from"], langs["to"], use, runtime)

    def pivot_route(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], sources: frozenset[str],
                    targets: frozenset[str], models: dict[str, ModelSpec]) -> Route:
        """`{from, to, via}`, and optionally `use: [first hop's models, second hop's models]`."""
        vnode = fields["via"][1]
        via = self.language(self.scalar(vnode, "via"), vnode, "routes.via")
        if via == ANY:
            raise self.fail(vnode, "routes.via", "expected one language code")
        if "runtime" in fields:
            raise self.fail(fields["runtime"][0], "routes.runtime", "a route with 'via' takes its hops' runtimes")
        hops = None
        if "use" in fields:
            use_node = fields["use"][1]
            if not isinstance(use_node, yaml.SequenceNode) or len(use_node.value) != 2:
                raise self.fail(use_node, "routes.use", "with 'via', expected two entries: the first hop's model(s), "
                                                        "then the second hop's")
            first, second = (tuple(self.strings(n, "use")) for n in use_node.value)
            self.known(first + second, use_node, models)
            hops = (first, second)
        return Route(sources, targets, (), None, via, hops)

    def known(self, names: tuple[str, ...], node: yaml.Node, models: dict[str, ModelSpec]) -> None:
        for name in names:
            if name not in models:
                raise self.fail(node, "routes.use", f"no model named '{name}' in 'models'")

    def runtime(self, node: yaml.Node, key: str) -> str:
        value = self.scalar(node, key)
        if value not in RUNTIMES:
            raise self.fail(node, key, f"expected one of {', '.join(RUNTIMES)}, got '{value}'")
        return value
