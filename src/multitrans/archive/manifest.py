"""The batch manifest: what each output was made from, so a job knows what is stale without translating.

For every source document the manifest records the SHA-256 of the source, the options
that change output, and for each output file its path, its own SHA-256 and the routes
its blocks took: source language, the model's name, the identity of the engine that
served it (engines/identity.py) and a fingerprint of the registry's candidate list for
that pair.  An output is current when all of these still hold: the source is unchanged,
the file is there with the recorded content, the options are the same, models.yaml would
offer the same models for every pair it used, and each model would be served as it was
(same runtime, quantization, revision and decoding, as far as `expected_identity` can tell
without loading the model; its docstring says what goes unnoticed).  `batch --check`
answers from this alone; a run skips current documents.

Crash safety: during a job every finished document is appended to a journal
(`manifest.journal`, one JSON line each, flushed to disk) and the journal is folded into
`manifest.json` (written atomically) at the end; loading replays a journal left by a
killed job, ignoring a torn last line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.registry import Registry
from ..engines.base import EngineOptions, ModelSpec
from ..engines.identity import ExpectedIdentity, expected_identity
from ..engines.pivot import HOP_SEP, PivotExpected, PivotSpec
from ..errors import UserError
from ..output import write_atomic

MANIFEST_VERSION = 2  # 2: routes hold the engine's identity, which took the beam over from the options
MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "manifest.journal"
ALIGNED = "aligned"  # the key of the aligned JSONL among a document's outputs


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    """The file's SHA-256, or None when it does not exist or is no regular file (a named pipe
    in an output's place is never read: it would block)."""
    if not path.is_file():
        return None
    try:
        return sha256_bytes(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def candidates_fingerprint(registry: Registry, src: str, tgt: str) -> str:
    """What models.yaml offers for src→tgt, in order, with every field that changes output (for a
    pivot route, what it offers for each hop)."""
    specs = [_spec_fields(s) for s in registry.candidates(src, tgt)]
    return sha256_bytes(json.dumps(specs, sort_keys=True, default=str).encode("utf-8"))[:16]


def _spec_fields(s: ModelSpec) -> dict[str, Any]:
    fields = {"name": s.name, "engine": s.engine, "model": s.model, "revision": s.revision,
              "target_token": s.target_token, "target_codes": s.target_codes,
              "max_input_tokens": s.max_input_tokens, "options": s.options}
    if isinstance(s, PivotSpec):
        fields.update(via=s.via, first=[_spec_fields(h) for h in s.first], second=[_spec_fields(h) for h in s.second])
    return fields


class Expected:
    """What models.yaml, the run's options and this machine would give each pair now.

    Each answer is worked out once per pair (and model), not once per document: a large
    archive asks the same few questions thousands of times."""

    def __init__(self, registry: Registry, options: EngineOptions) -> None:
        self.registry = registry
        self.options = options
        self._fingerprints: dict[tuple[str, str], str] = {}
        self._identities: dict[tuple[str, str, str], ExpectedIdentity | PivotExpected | None] = {}

    def fingerprint(self, src: str, tgt: str) -> str:
        if (src, tgt) not in self._fingerprints:
            self._fingerprints[src, tgt] = candidates_fingerprint(self.registry, src, tgt)
        return self._fingerprints[src, tgt]

    def identity(self, src: str, tgt: str, model: str) -> ExpectedIdentity | PivotExpected | None:
        """The identity `model` would have serving src→tgt; None when models.yaml no longer offers it there.
        A pivot is recorded as its hops' models ("first > second"), and expected hop by hop."""
        if (src, tgt, model) not in self._identities:
            candidates = self.registry.candidates(src, tgt)
            spec = next((s for s in candidates if s.name == model), None)
            expected: ExpectedIdentity | PivotExpected | None = None
            if spec is not None:
                expected = expected_identity(spec, self.options)
            elif HOP_SEP in model:
                first, second = model.split(HOP_SEP, 1)
                for pivot in (s for s in candidates if isinstance(s, PivotSpec)):
                    a = next((s for s in pivot.first if s.name == first), None)
                    b = next((s for s in pivot.second if s.name == second), None)
                    if a is not None and b is not None:
                        expected = PivotExpected(expected_identity(a, self.options), expected_identity(b, self.options))
                        break
            self._identities[src, tgt, model] = expected
        return self._identities[src, tgt, model]


@dataclass(frozen=True)
class Stale:
    """One output that a run would (re)write, and why."""

    source: str  # the document's path in the archive
    output: str  # the output's path under the output directory
    reason: str


class Manifest:
    """The manifest of one output directory (kept in DIR/.multitrans/)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / MANIFEST_NAME
        self.journal_path = state_dir / JOURNAL_NAME
        self.documents: dict[str, dict[str, Any]] = {}
        self.other_version: int | None = None  # the version of a manifest.json this multitrans cannot read
        self._journal: Any = None
        self._load()

    def _load(self) -> None:
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UserError(f"cannot read the batch manifest {self.path}: {exc}; delete it to start afresh") from exc
            if data.get("version") == MANIFEST_VERSION:
                self.documents = dict(data.get("documents", {}))
            else:
                self.other_version = data.get("version")
        if self.journal_path.exists():
            for line in self.journal_path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:  # the torn last line of a killed job
                    continue
                if record["entry"] is None:  # forgotten (its source and outputs are gone)
                    self.documents.pop(record["source"], None)
                else:
                    self.documents[record["source"]] = record["entry"]

    def forget(self, source: str) -> None:
        """Drop a document whose source and outputs are gone; durable on return, like `record`."""
        self.documents.pop(source, None)
        self._append({"source": source, "entry": None})

    def record(self, source: str, entry: dict[str, Any]) -> None:
        """Remember one finished document; durable on return (journal line written and flushed)."""
        self.documents[source] = entry
        self._append({"source": source, "entry": entry})

    def _append(self, line: dict[str, Any]) -> None:
        if self._journal is None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the job
        self._journal.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def save(self) -> None:
        """Fold the journal into manifest.json (atomically) and drop the journal."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if not self.documents and not self.journal_path.exists():
            return
        data = {"version": MANIFEST_VERSION, "documents": dict(sorted(self.documents.items()))}
        write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        self.journal_path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def stale_outputs(
        self, source: str, source_sha: str, options: Mapping[str, Any], outputs: Mapping[str, str],
        out_dir: Path, expected: Expected,
    ) -> list[Stale]:
        """The outputs of `source` (target or ALIGNED → path under out_dir) that are not current."""
        entry = self.documents.get(source)
        if entry is None:
            unknown = "not in the manifest" if self.other_version is None else \
                f"recorded by another version of multitrans (manifest version {self.other_version})"
            return [Stale(source, path, "missing" if not (out_dir / path).exists() else unknown)
                    for path in outputs.values()]
        recorded: dict[str, Any] = entry.get("outputs", {})
        stale = []
        document_reason = None
        if entry.get("source") != source_sha:
            document_reason = "source changed"
        elif entry.get("options") != dict(options):
            document_reason = "options changed"
        for key, path in outputs.items():
            reason = document_reason or self._output_reason(key, path, recorded.get(key), outputs, out_dir, expected)
            if reason:
                stale.append(Stale(source, path, reason))
        return stale

    @staticmethod
    def _output_reason(
        key: str, path: str, record: dict[str, Any] | None, outputs: Mapping[str, str], out_dir: Path,
        expected: Expected,
    ) -> str | None:
        if record is None:
            return "missing" if not (out_dir / path).exists() else "not in the manifest"
        if record.get("path") != path:
            return "layout changed"
        actual = sha256_file(out_dir / path)
        if actual is None:
            return "missing"
        if actual != record.get("sha256"):
            return "output modified"
        if key == ALIGNED:
            if sorted(record.get("targets", [])) != sorted(t for t in outputs if t != ALIGNED):
                return "languages changed"
            return None
        for route in record.get("routes", []):
            src = route["from"]
            if route.get("model") is not None:
                if "identity" not in route:  # a journal line of a job run by an older multitrans
                    return "recorded by another version of multitrans"
                now = expected.identity(src, key, route["model"])
                changes = now.changes(route["identity"]) if now is not None else []
                if changes:
                    return f"{src}→{key} would be served differently: {', '.join(changes)}"
            if expected.fingerprint(src, key) != route.get("registry"):
                return f"models for {src}→{key} changed"
        return None


def document_entry(
    source_sha: str, options: Mapping[str, Any], outputs: Mapping[str, tuple[str, str]],
    routes: Mapping[str, Sequence[Mapping[str, Any]]], expected: Expected,
) -> dict[str, Any]:
    """A manifest entry: `outputs` maps target (or ALIGNED) → (path, sha256); `routes` target → routes used,
    each naming its source language, its model and that engine's identity (workers.py)."""
    entry_outputs: dict[str, Any] = {}
    for key, (path, digest) in sorted(outputs.items()):
        if key == ALIGNED:
            entry_outputs[key] = {"path": path, "sha256": digest, "targets": sorted(t for t in outputs if t != ALIGNED)}
            continue
        entry_outputs[key] = {
            "path": path, "sha256": digest,
            "routes": [{**route, "registry": expected.fingerprint(route["from"], key)}
                       for route in routes.get(key, ())],
        }
    return {"source": source_sha, "options": dict(options), "outputs": entry_outputs}

