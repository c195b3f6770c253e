"""Argos Translate packages: about ninety small, offline OPUS-MT/OpenNMT language pairs.

An Argos package (`.argosmodel`, a zip) is one directory holding `metadata.json` (its
pair, name and version), a CTranslate2 model in `model/` (int8, as argos-train ships it)
and the source side's `sentencepiece.model`.  There is nothing to convert: the package
runs on the same CTranslate2 engine as converted Marian and NLLB models (ct2.py), with
the same whole-job batching, output budgets, out-of-memory halving and `--device`; only
tokenization differs.  The source is cut into SentencePiece pieces; the output is the
target tokens joined, `▁` read as a space, which is how argos-translate itself detokenizes.

`model:` in models.yaml is a `.argosmodel` file (unpacked once into a cache beside the
CTranslate2 conversions, keyed by the file's digest), an unpacked package directory, or
the name of a package argos-translate installed (its directory name, `translate-zh_en-1_9`,
or its argospm name, `translate-zh_en`), looked up in argos-translate's own package folder.
What produced a translation is the package's name and version (`identity()`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..languages import UnknownLanguage, from_argos_code
from ..output import staged_dir
from .base import EngineError, EngineOptions, ModelSpec, ModelUnavailable
from .convert import cache_root
from .ct2 import Ct2Engine, Row, compute_type, ct2_device
from .identity import ARGOS_BEAM

METADATA = "metadata.json"
SHIPPED_QUANTIZATION = "int8"  # argos-train quantizes every package's CTranslate2 model to int8
# OPUS-MT's Marian models (which most packages are converted from) have 512 positions;
# a package says nothing about it, so `max_input_tokens` in models.yaml may lower it.
DEFAULT_INPUT_LIMIT = 512
UNPACKED = "argos"  # folder of unpacked .argosmodel files, inside the CTranslate2 cache
INDEX_REPOSITORY = "https://raw.githubusercontent.com/argosopentech/argospm-index/main"
FETCH_TIMEOUT = 60  # seconds without an answer before a download counts as failed


class ArgosPackageError(EngineError):
    """A file or directory is not a usable Argos Translate package."""


@dataclass(frozen=True)
class ArgosPackage:
    """What a package's metadata.json says about it, and where it is unpacked."""

    path: Path
    name: str  # argospm's name for it: "translate-zh_en"
    version: str
    source: str  # our language codes
    target: str

    @classmethod
    def from_metadata(cls, path: Path, metadata: dict[str, Any], where: str) -> ArgosPackage:
        try:
            kind = metadata.get("type", "translate")
            source, target = from_argos_code(str(metadata["from_code"])), from_argos_code(str(metadata["to_code"]))
        except KeyError as err:
            raise ArgosPackageError(f"{where}: metadata.json has no {err.args[0]!r}; this is not a translation package.") from err
        except UnknownLanguage as err:
            raise ArgosPackageError(f"{where}: {err}") from err
        name = f"{kind}-{metadata['from_code']}_{metadata['to_code']}"
        return cls(path, name, str(metadata.get("package_version", "")), source, target)


def package_dirs() -> list[Path]:
    """argos-translate's package folders, as its settings module finds them: `$ARGOS_PACKAGES_DIR`,
    else the older `$ARGOS_TRANSLATE_PACKAGES_DIR`, else `$XDG_DATA_HOME/argos-translate/packages`
    (`~/.local/share/argos-translate/packages`; under snap, home is `$SNAP_USER_DATA`)."""
    home = Path(os.environ["SNAP_USER_DATA"]) if "SNAP" in os.environ and "SNAP_USER_DATA" in os.environ else Path.home()
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "argos-translate"
    legacy = os.environ.get("ARGOS_TRANSLATE_PACKAGES_DIR") or str(data / "packages")
    return [Path(os.environ.get("ARGOS_PACKAGES_DIR") or legacy).expanduser()]


def read_package(directory: Path) -> ArgosPackage:
    """The package unpacked in `directory` (or in its only subdirectory, as unzipping leaves it)."""
    directory = _package_root(directory)
    try:
        metadata = json.loads((directory / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ArgosPackageError(f"{directory}: unreadable {METADATA} ({err}).") from err
    return ArgosPackage.from_metadata(directory, metadata, str(directory))


def peek_package(spec: ModelSpec) -> ArgosPackage | None:
    """The package `spec` names, read without unpacking anything (for `models list` and
    `batch --check`); None when it is not on this machine."""
    path = Path(spec.model or "").expanduser()
    if path.is_file():
        name, metadata = _zip_metadata(path)
        return ArgosPackage.from_metadata(path, metadata, str(path))
    if path.is_dir():
        return read_package(path)
    return _installed(spec)


def resolve_package(spec: ModelSpec, options: EngineOptions) -> ArgosPackage:
    """The unpacked package `spec` names: a `.argosmodel` file (unpacked into the cache), a
    package directory, or an installed package's name."""
    if not spec.model:
        raise EngineError(f"Model {spec.name} (engine argos) has no `model:`: name a .argosmodel file, "
                          "a package directory or an installed package.")
    path = Path(spec.model).expanduser()
    if path.is_file():
        return read_package(unpack(path, cache_root(options.cache_dir) / UNPACKED))
    if path.is_dir():
        return read_package(path)
    found = _installed(spec)
    if found is None:
        where = ", ".join(str(d) for d in package_dirs())
        raise ModelUnavailable(f"Argos package {spec.model} ({spec.name}) is neither a file, a directory, "
                               f"nor a package installed in {where}.")
    return found


def unpack(archive: Path, root: Path) -> Path:
    """`archive` unpacked under `root`, once per content (keyed by its SHA-256): an edited or
    replaced file is unpacked anew, and an interrupted unpacking is never taken for a finished one."""
    digest = _sha256(archive)
    target = root / f"{_safe(archive.stem)}-{digest[:16]}"
    if (target / ".complete").is_file():
        return target
    with staged_dir(target) as staging:
        try:
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)  # zipfile drops absolute paths and `..` parts
        except (zipfile.BadZipFile, OSError) as err:
            raise ArgosPackageError(f"{archive} is not an Argos package (a zip archive): {err}") from err
        (staging / ".complete").write_text(digest + "\n", encoding="utf-8")
    return target


def pull_package(spec: ModelSpec, src: str, tgt: str) -> ArgosPackage:
    """The package `spec` names, fetched first when it is not on this machine: from the link
    argos-translate's package index gives for src→tgt, checked against `sha256:` when models.yaml
    gives one, and written where `model:` says (a file path) or installed as argos-translate
    installs (an installed package's name).  Needs no network when the package is present."""
    present = peek_package(spec)
    if present is not None:
        return present
    entries = [e for e in _fetch_json(index_url()) if e.get("type", "translate") == "translate"
               and _codes(e) == (src, tgt) and e.get("links")]
    if not entries:
        raise ModelUnavailable(f"the Argos package index ({index_url()}) has no {src}→{tgt} package.")
    entry = max(entries, key=lambda e: _version_key(str(e.get("package_version", ""))))
    data = _fetch(entry["links"][0])
    expected = str(spec.options.get("sha256", "")).lower()
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise ArgosPackageError(f"{entry['links'][0]} does not have the SHA-256 models.yaml gives for {spec.name}; "
                                "nothing was written.")
    target = Path(str(spec.model)).expanduser()
    if target.suffix == ".argosmodel" or len(target.parts) > 1:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)
    else:
        _install(data, package_dirs()[0])
    found = peek_package(spec)
    if found is None:
        raise ArgosPackageError(f"the package fetched for {src}→{tgt} is not named {spec.model}; "
                                f"set `model:` of {spec.name} to its name ({_name(entry)}).")
    return found


def index_url() -> str:
    """argos-translate's package index: `$ARGOS_PACKAGE_INDEX` (a repository) + /index.json."""
    return os.environ.get("ARGOS_PACKAGE_INDEX", INDEX_REPOSITORY).rstrip("/") + "/index.json"


def expected_runtime(options: EngineOptions) -> str:
    """What a package computes in on the run's device (int8 as shipped; float32 where the CPU lacks int8)."""
    return compute_type(SHIPPED_QUANTIZATION, ct2_device(options.device)[0])


class ArgosEngine(Ct2Engine):
    """One Argos package on CTranslate2, for its one language pair."""

    def __init__(self, spec: ModelSpec, options: EngineOptions) -> None:
        self.package = resolve_package(spec, options)
        super().__init__(spec, options, self.package.path)

    @property
    def model_id(self) -> str:
        return self.package.name

    @property
    def revision(self) -> str:
        return self.package.version

    def check(self, src: str, tgt: str) -> None:
        """A package serves the one pair its metadata names."""
        if (src, tgt) != (self.package.source, self.package.target):
            raise ModelUnavailable(f"Argos package {self.package.name} translates "
                                   f"{self.package.source}→{self.package.target}, not {src}→{tgt}.")

    def _ct2_dir(self) -> Path:
        return self.model_dir / "model"

    def _stored_quantization(self) -> str:
        return SHIPPED_QUANTIZATION

    def _load_tokenizer(self) -> Any:
        import sentencepiece

        path = self.model_dir / "sentencepiece.model"
        try:
            return sentencepiece.SentencePieceProcessor(model_file=str(path))
        except (OSError, RuntimeError) as err:
            raise ArgosPackageError(f"Argos package {self.package.name}: {path} could not be loaded ({err}).") from err

    def _read_model_facts(self) -> None:
        self.min_new_tokens = self.max_new_tokens = None
        self.model_beam = ARGOS_BEAM  # a package says nothing; this is what argos-translate uses
        self.model_limit = DEFAULT_INPUT_LIMIT
        self.decoder_shape = (6, 512, len(self._target_vocabulary))

    @cached_property
    def _source_vocabulary(self) -> frozenset[str]:
        return frozenset(self._vocabulary("source_vocabulary.json"))

    @cached_property
    def _target_vocabulary(self) -> list[str]:
        return self._vocabulary("target_vocabulary.json")

    def _vocabulary(self, name: str) -> list[str]:
        """CTranslate2's vocabulary of one side: its own file, or the shared one."""
        for candidate in (name, "shared_vocabulary.json"):
            path = self._ct2_dir() / candidate
            if path.is_file():
                return json.loads(path.read_text(encoding="utf-8"))
            if path.with_suffix(".txt").is_file():
                return path.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
        raise ArgosPackageError(f"Argos package {self.package.name}: no vocabulary in {self._ct2_dir()}.")

    def _pieces(self, texts: Sequence[str]) -> list[list[str]]:
        return self.tokenizer.encode(list(texts), out_type=str)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """SentencePiece pieces plus the </s> CTranslate2 adds to every source."""
        return [len(pieces) + 1 for pieces in self._pieces(texts)] if texts else []

    def unknown_characters(self, text: str) -> set[str]:
        """Characters whose pieces are not in the model's source vocabulary (they reach it as <unk>)."""
        for char in set(text) - self._unknown.keys():
            pieces = [] if char.isspace() else self.tokenizer.encode(char, out_type=str)
            self._unknown[char] = any(p != "▁" and p not in self._source_vocabulary for p in pieces)
        return {char for char in set(text) if self._unknown[char]}

    def _source_tokens(self, rows: list[Row]) -> list[list[str]]:
        return self._pieces([text for text, _, _ in rows])

    def _detokenize(self, outputs: list[list[str]]) -> list[str]:
        return ["".join(tokens).replace("▁", " ").strip() for tokens in outputs]


def _installed(spec: ModelSpec) -> ArgosPackage | None:
    """An installed package by directory name or argospm name; the newest version of a name wins."""
    wanted = str(spec.model)
    matches: list[ArgosPackage] = []
    for folder in package_dirs():
        direct = folder / wanted
        if (direct / METADATA).is_file():
            return read_package(direct)
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if (child / METADATA).is_file():
                try:
                    package = read_package(child)
                except ArgosPackageError:
                    continue
                if package.name == wanted:
                    matches.append(package)
    return max(matches, key=lambda p: _version_key(p.version), default=None)


def _package_root(directory: Path) -> Path:
    if (directory / METADATA).is_file():
        return directory
    children = [c for c in directory.iterdir() if c.is_dir() and (c / METADATA).is_file()] if directory.is_dir() else []
    if len(children) == 1:
        return children[0]
    raise ArgosPackageError(f"{directory} holds no Argos package ({METADATA} not found).")


def _zip_metadata(archive: Path) -> tuple[str, dict[str, Any]]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            names = [n for n in bundle.namelist() if n.rstrip("/").split("/")[-1] == METADATA and n.count("/") <= 1]
            if not names:
                raise ArgosPackageError(f"{archive} holds no {METADATA}: not an Argos package.")
            return names[0], json.loads(bundle.read(min(names, key=len)))
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ArgosPackageError(f"{archive} is not an Argos package (a zip archive with {METADATA}): {err}") from err


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text).lstrip(".") or "_"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _codes(entry: dict[str, Any]) -> tuple[str, str] | None:
    try:
        return from_argos_code(str(entry.get("from_code"))), from_argos_code(str(entry.get("to_code")))
    except UnknownLanguage:
        return None


def _name(entry: dict[str, Any]) -> str:
    return f"{entry.get('type', 'translate')}-{entry.get('from_code')}_{entry.get('to_code')}"


def _fetch(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - the index's own links
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise ModelUnavailable(f"{url} could not be fetched ({err}).") from err


def _fetch_json(url: str) -> list[dict[str, Any]]:
    try:
        index = json.loads(_fetch(url))
    except ValueError as err:
        raise ModelUnavailable(f"{url} is not a package index ({err}).") from err
    return [e for e in index if isinstance(e, dict)] if isinstance(index, list) else []


def _install(data: bytes, folder: Path) -> None:
    """Unzip a package into argos-translate's folder, as its `install_from_path` does, through a
    staging folder so an interrupted install leaves no half package behind."""
    import io

    folder.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                bundle.extractall(staging)
        except zipfile.BadZipFile as err:
            raise ArgosPackageError(f"the downloaded package is not a zip archive ({err}).") from err
        for child in staging.iterdir():
            if (folder / child.name).exists():
                shutil.rmtree(folder / child.name)
            os.replace(child, folder / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
