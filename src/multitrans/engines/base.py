"""The one interface every translation engine implements.

Engines translate lists of plain sentences between two languages and know nothing
about documents, files, masking or routing: those live in earlier stages.  Like
sacrebleu's metrics, each engine is one file; `load_engine` picks the class by the
`engine:` name a model has in models.yaml.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from .identity import RULE_BASED, EngineIdentity, decoding_json, native_runtime


MULTI_CHUNK = 64  # rows per `translate` call in the default `translate_multi`


class EngineError(UserError):
    """A model cannot be loaded or run; the message is meant for the user."""


class OptionsError(EngineError):
    """The run's options cannot work with any model (e.g. --device cuda without a GPU): stop, don't fall back."""


class UnsafeCheckpoint(OptionsError):
    """A model's `.bin` weights hold more than tensors: a pickle that would run code when loaded.
    The run stops rather than passing to the next route, so a tampered checkpoint is noticed."""


class ModelUnavailable(EngineError):
    """The model is not on this machine and may not (or could not) be downloaded."""


def expect_count(translated: Sequence[str], count: int) -> Sequence[str]:
    """`translated`, once it is sure to hold one translation per input: an engine that returns
    fewer or more would shift every later translation onto the wrong sentence."""
    if len(translated) != count:
        raise EngineError(f"engine returned {len(translated)} translations for {count} sentences")
    return translated


@dataclass(frozen=True)
class ModelSpec:
    """One configured model, as named in models.yaml."""

    name: str
    engine: str  # "marian" | "nllb" | "apertium"
    model: str | None = None  # hub id or local directory
    revision: str | None = None
    target_token: str | None = None  # e.g. ">>{code}<<" for multi-target opus-mt models
    target_codes: dict[str, str] = field(default_factory=dict)  # our code -> model's code
    max_input_tokens: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    runtime: str = "auto"  # marian/nllb: "ct2", "transformers", or "auto" (ct2 when a converted copy is present)


@dataclass(frozen=True)
class EngineOptions:
    """Run-wide settings every engine receives."""

    device: str = "auto"  # auto | cpu | cuda
    beam: int | None = None  # --beam; None: each model's own setting (Engine.default_beam)
    offline: bool = False
    batch_size: int | None = None  # most rows per batch; None: the device's token budget decides (engines/batching.py)
    cache_dir: str | None = None


@dataclass(frozen=True)
class Decoding:
    """Per-call decoding settings that override the run's, for retrying a segment that came out flagged.

    None leaves the engine's own setting.  Beam search with a repetition penalty and a
    ban on repeated n-grams is what stops a model looping on a phrase; it is too slow
    (and too conservative) for every sentence, so it is used only on retries.
    """

    beam: int | None = None
    repetition_penalty: float | None = None
    no_repeat_ngram_size: int | None = None

    def penalties(self) -> dict[str, Any]:
        """The settings besides the beam, under the names both transformers' `generate` and
        CTranslate2's `translate_batch` use."""
        extra: dict[str, Any] = {}
        if self.repetition_penalty:
            extra["repetition_penalty"] = self.repetition_penalty
        if self.no_repeat_ngram_size:
            extra["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        return extra


class Engine(ABC):
    """Translates sentences; one instance holds one loaded model for a whole run."""

    # Whether `translate` honours its `decoding` argument.  Callers pass `decoding` only
    # to engines that set this, so an engine written before the argument existed keeps working.
    tunable_decoding: bool = False
    # Whether acronyms ("AM", "EM24") must come through letter for letter.  A rule-based engine
    # takes them for words of its dictionary (Apertium made "AM" "AMMA"); a neural model has
    # learned where one is translated ("FN" is "UN" in English), so for it they are not required.
    keeps_acronyms: bool = False
    # Rows per `translate` call in the default `translate_multi`: small, so progress moves.
    multi_chunk: int = MULTI_CHUNK

    def __init__(self, spec: ModelSpec, options: EngineOptions) -> None:
        self.spec = spec
        self.options = options

    @property
    def model_id(self) -> str:
        """What the aligned record names as the model."""
        return self.spec.model or self.spec.name

    @property
    def max_input_tokens(self) -> int | None:
        """Longest input the model takes; None when there is no limit."""
        return self.spec.max_input_tokens

    @property
    def runtime(self) -> str | None:
        """What runs the model (e.g. "transformers-float32", "ctranslate2-int8"), for the aligned record;
        None for engines with no choice of runtime."""
        return None

    @property
    def quantization(self) -> str:
        """The precision the weights compute in; empty where the engine has no such choice."""
        return ""

    @property
    def revision(self) -> str:
        """Which version of the model this is; the default is what models.yaml declares."""
        return self.spec.revision or ""

    def identity(self) -> EngineIdentity:
        """What produces this engine's translations: the one description the translation memory,
        the batch manifest, XLIFF and TMX all use (see engines/identity.py)."""
        return EngineIdentity(self.spec.engine, self.model_id, self.revision,
                              self.runtime or native_runtime(self.spec.engine), self.quantization,
                              decoding_json(self.decoding))

    @property
    def default_beam(self) -> int:
        """The beam the model's own configuration decodes with (opus-mt checkpoints say 4 in
        generation_config.json); 1 where it says nothing."""
        return 1

    @property
    def beam(self) -> int:
        """The run's beam: --beam when given, else the model's own."""
        return self.options.beam or self.default_beam

    @property
    def decoding(self) -> dict[str, Any]:
        """The decoding options that change this engine's output (in the identity and the aligned
        record); none for rule-based engines."""
        return {} if self.spec.engine in RULE_BASED else {"beam": self.beam}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Input length as the model sees it; engines with a tokenizer override this."""
        return [len(t.split()) for t in texts]

    def check(self, src: str, tgt: str) -> None:
        """Raise ModelUnavailable when this engine cannot serve src→tgt; called before any work is planned."""

    def unknown_characters(self, text: str) -> set[str]:
        """Characters of `text` the model cannot represent (they tokenize to <unk>).

        A model drops such a character, and sometimes derails after it, so the quality
        checks treat each as a span that must come through; the default knows of none.
        """
        return set()

    @abstractmethod
    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        """Translate each segment from `src` to `tgt` (our language codes), same order.

        `decoding` overrides the run's decoding settings for this call; engines that
        honour it set `tunable_decoding`.
        """

    def translate_multi(
        self,
        rows: Sequence[tuple[str, str, str]],
        on_progress: Callable[[int], None] | None = None,
        decoding: Decoding | None = None,
    ) -> list[str]:
        """Translate (text, src, tgt) rows of any language pairs, same order: the whole job at once.

        Engines that can batch across pairs (NLLB mixes target languages in one batch) and
        sort the whole job by length override this; the default serves each pair with
        `translate`, in calls of `MULTI_CHUNK` rows so progress moves, which keeps every
        engine that only implements `translate` working.
        """
        results = [""] * len(rows)
        by_pair: dict[tuple[str, str], list[int]] = {}
        for index, (_, src, tgt) in enumerate(rows):
            by_pair.setdefault((src, tgt), []).append(index)
        for (src, tgt), indices in by_pair.items():
            for start in range(0, len(indices), self.multi_chunk):
                chunk = indices[start : start + self.multi_chunk]
                texts = [rows[i][0] for i in chunk]
                if decoding is not None and self.tunable_decoding:
                    translated = self.translate(texts, src, tgt, decoding=decoding)
                else:
                    translated = self.translate(texts, src, tgt)
                for i, text in zip(chunk, expect_count(translated, len(chunk))):
                    results[i] = text
                if on_progress:
                    on_progress(len(chunk))
        return results

    def close(self) -> None:
        """Release the model; the default has nothing to release."""
