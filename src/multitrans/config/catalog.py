"""What `multitrans models list|pull` report and do: model presence and fetching, without loading any model."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from ..engines.base import EngineError, ModelSpec
from ..languages import apertium_mode
from .registry import Registry


def apertium_modes() -> frozenset[str]:
    """Installed Apertium directions; empty when the program is missing."""
    program = shutil.which("apertium")
    if program is None:
        return frozenset()
    result = subprocess.run([program, "-l"], capture_output=True, text=True, check=False)
    return frozenset(result.stdout.split()) if result.returncode == 0 else frozenset()


def model_status(spec: ModelSpec) -> dict:
    """A row for `models list`: the model and whether it can run here without downloading."""
    if spec.engine == "apertium":
        present = bool(apertium_modes())
    elif spec.engine == "argos":
        from ..engines.argos import peek_package

        try:
            present = peek_package(spec) is not None
        except EngineError:  # there, but not a usable package
            present = False
    else:
        from ..engines.hubcache import surely_absent

        if surely_absent(spec):
            present = False
        else:
            from ..engines.hub import is_present

            present = is_present(spec)
    return {"name": spec.name, "engine": spec.engine, "model": spec.model, "revision": spec.revision, "present": present}


def bridges(registry: Registry) -> list[dict]:
    """For `models list`: each pair a pivot route serves, through which language and with which models per
    hop, and whether a model of each hop is on this machine ("*" stays as written)."""
    from ..engines.pivot import PivotSpec

    rows, status = [], {}
    for route in registry.routes:
        if route.via is None:
            continue
        for src in sorted(route.sources):
            for tgt in sorted(route.targets):
                pivot = next((s for s in registry.candidates(src, tgt) if isinstance(s, PivotSpec) and s.via == route.via), None)
                if pivot is None:
                    continue
                hops = [[spec.name for spec in hop] for hop in (pivot.first, pivot.second)]
                for spec in (*pivot.first, *pivot.second):
                    if spec.name not in status:
                        status[spec.name] = model_status(spec)["present"]
                present = all(any(status[name] for name in hop) for hop in hops)
                rows.append({"from": src, "to": tgt, "via": route.via, "first": hops[0], "second": hops[1],
                             "present": present})
    return rows


def pull_routes(registry: Registry, sources: Sequence[str], targets: Sequence[str], say: Callable[[str], None]) -> list[str]:
    """Fetch, for every (source, target), the first model of its route that can serve it; returns what failed."""
    modes = apertium_modes()
    pulled: dict[str, str] = {}
    failures: list[str] = []
    for src in sources:
        for tgt in targets:
            if src == tgt:
                continue
            if not _pull_pair(registry.candidates(src, tgt), src, tgt, modes, pulled, say):
                failures.append(f"{src}→{tgt}")
                say(f"{src}→{tgt}: nothing could be fetched for this pair")
    return failures


def _pull_pair(candidates: Sequence[ModelSpec], src: str, tgt: str, modes: frozenset[str], pulled: dict[str, str],
               say: Callable[[str], None]) -> bool:
    """Fetch the first of `candidates` that can serve src→tgt (for a pivot route, a model for each hop)."""
    from ..engines.hub import pull
    from ..engines.pivot import PivotSpec

    for spec in candidates:
        if isinstance(spec, PivotSpec):
            if (_pull_pair(spec.first, src, spec.via, modes, pulled, say)
                    and _pull_pair(spec.second, spec.via, tgt, modes, pulled, say)):
                say(f"{src}→{tgt}: through {spec.via}")
                return True
            continue
        if spec.engine == "apertium":
            if apertium_mode(src, tgt) in modes:
                say(f"{src}→{tgt}: Apertium, installed")
                return True
            continue
        if spec.engine == "argos":
            from ..engines.argos import pull_package

            try:
                package = pull_package(spec, src, tgt)
            except EngineError as exc:
                say(f"{src}→{tgt}: {spec.name}: {exc}")
                continue
            say(f"{src}→{tgt}: {spec.name}: Argos package {package.name} {package.version} in {package.path}")
            return True
        if spec.name not in pulled:
            try:
                pulled[spec.name] = str(pull(spec))
            except EngineError as exc:
                say(f"{src}→{tgt}: {spec.name}: {exc}")
                continue
            # A hub snapshot directory is named after the commit it holds: the hash to pin.
            say(f"{src}→{tgt}: {spec.name} ({spec.model}) commit {Path(pulled[spec.name]).name} in {pulled[spec.name]}")
        return True
    return False
