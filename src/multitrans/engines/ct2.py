"""The CTranslate2 runtime for Marian and NLLB models: same models, same tokens, several times faster.

A model converted with `multitrans models convert` (see `multitrans.engines.convert`) is served
here instead of by transformers: `runtime: ct2` in models.yaml asks for it (converting on
first use when needed), and the default `runtime: auto` takes it whenever a conversion is
on the machine.  Greedy output is token-for-token what the transformers runtime produces
at the same precision (float32); int8 on CPU and float16 on CUDA trade a little of that
for speed, which is why the aligned record names the runtime that ran.

Decoding follows the transformers engine exactly:

* Input is never cut: `max_input_length` (CTranslate2 silently truncates at 1,024 by
  default) is set past each batch's longest row, and a row longer than the model takes is
  refused, since splitting long sentences is the runner's job.
* Output ends at a budget computed from each row's own input length (2 x length + 9
  tokens, within the model's positions and the checkpoint's `max_new_tokens` /
  `min_new_tokens`), not CTranslate2's default of 256: long sentences are not cut short,
  and a degenerate repetition ends where it would have ended alone.  A batch decodes to its
  longest budget and each row is then cut back to its own, which for greedy search is the
  same as decoding it alone; under beam search, the few rows whose search reached their own
  budget are searched again with rows of the same budget, which gives what they give alone.
* Rows of one call may mix target languages: NLLB puts each row's language token in its
  target prefix, Marian's `>>xx<<` token sits in the source.

Batches are cut by a token budget over the whole job (`multitrans.engines.batching`); a CUDA
out-of-memory error halves the batch and retries.  CTranslate2 gets every CPU this
process may use as intra-op threads and one translation at a time (inter_threads=1): the
runner feeds it batch by batch, and two concurrent translations would only split the same
cores.  Tokenization runs between batches, never alongside.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ctranslate2

from .convert import COMPUTE_TYPES, HF_FILES, cache_root, convert_model, find_converted, read_metadata
from .batching import (
    HalvingRunner,
    cpu_threads,
    scatter,
    split_where,
    token_batches,
)
from .base import Decoding, Engine, EngineError, EngineOptions, ModelSpec, OptionsError
from .identity import CTRANSLATE2, checkpoint_beam, read_generation_config, runtime_name
from .vocabulary import MarianVocabulary, NllbVocabulary, TokenizedModel, model_token_limit, positive

Row = tuple[str, str, str]  # text, src, tgt


def load_converted(spec: ModelSpec, options: EngineOptions) -> Engine | None:
    """The CTranslate2 engine for `spec`, or None when transformers should serve it."""
    conversion = choose_conversion(spec, options)
    if conversion is None:
        return None
    found, quantization = conversion
    if found is None:
        found = convert_model(spec, quantization, options=options, root=cache_root(options.cache_dir))
    return _ENGINES[spec.engine](spec, options, found)


def choose_conversion(spec: ModelSpec, options: EngineOptions) -> tuple[Path | None, str] | None:
    """The conversion that serves `spec` (None while it is yet to be made) and its stored
    quantization; None when transformers serves it.  Reads the cache and loads nothing.

    `runtime: auto` uses a conversion only when one is on the machine; `runtime: ct2`
    converts (int8 on CPU, int8_float16 on CUDA) when none is.
    """
    if spec.runtime == "transformers":
        return None
    if spec.engine not in _ENGINES:
        raise EngineError(f"Model {spec.name}: the CTranslate2 runtime serves marian and nllb models, not {spec.engine}.")
    device, _ = ct2_device(options.device)
    found = find_converted(spec, device, cache_root(options.cache_dir))
    if found is not None:
        return found, read_metadata(found)["quantization"]
    if spec.runtime != "ct2":
        return None
    return None, "int8_float16" if device == "cuda" else "int8"


def expected_compute_type(spec: ModelSpec, options: EngineOptions) -> str | None:
    """What `spec` would compute in if loaded now (the engine's `quantization`); None when
    transformers would serve it.  Loads nothing (see identity.expected_identity)."""
    conversion = choose_conversion(spec, options)
    if conversion is None:
        return None
    return compute_type(conversion[1], ct2_device(options.device)[0])


def ct2_device(name: str) -> tuple[str, int]:
    """(device, index) for CTranslate2; `cuda` without a GPU stops the run, as in the transformers runtime."""
    gpus = ctranslate2.get_cuda_device_count()
    if name == "auto":
        return ("cuda", 0) if gpus else ("cpu", 0)
    if name == "cpu":
        return "cpu", 0
    if name.startswith("cuda"):
        if not gpus:
            raise OptionsError(f"--device {name} was asked for, but CTranslate2 {ctranslate2.__version__} sees no CUDA GPU.")
        index = name.partition(":")[2]
        if index and not index.isdigit():
            raise OptionsError(f"Unknown device {name!r}; use auto, cpu, cuda or cuda:N.")
        return "cuda", int(index or 0)
    raise OptionsError(f"Unknown device {name!r}; use auto, cpu or cuda.")


def compute_type(quantization: str, device: str) -> str:
    """What a stored quantization computes in on `device`, falling back to float32 where this
    CPU lacks the int8 kernels."""
    wanted = COMPUTE_TYPES["cuda" if device == "cuda" else "cpu"][quantization]
    supported = ctranslate2.get_supported_compute_types(device)
    return wanted if wanted in supported else "float32"


class Ct2Engine(TokenizedModel):
    """One converted model, loaded for the whole run; subclasses say how rows are tokenized."""

    tunable_decoding = True

    def __init__(self, spec: ModelSpec, options: EngineOptions, model_dir: Path) -> None:
        super().__init__(spec, options)
        self.model_dir = Path(model_dir)
        self.device, device_index = ct2_device(options.device)
        self.compute_type = compute_type(self._stored_quantization(), self.device)
        self.tokenizer = self._load_tokenizer()
        self._read_model_facts()
        try:
            self.translator = ctranslate2.Translator(
                str(self._ct2_dir()), device=self.device, device_index=device_index, compute_type=self.compute_type,
                inter_threads=1, intra_threads=cpu_threads() if self.device == "cpu" else 0,
            )
        except (RuntimeError, ValueError) as err:
            raise EngineError(f"Model {self.model_id}: CTranslate2 could not load {self._ct2_dir()}: {err}") from err
        if self.device == "cuda":
            self._check_gpu_runs()
        self._halving = HalvingRunner()
        self._unknown = {}

    def _check_gpu_runs(self) -> None:
        """Decode two tokens now: CTranslate2 loads cuBLAS only when it first computes, so a GPU
        without the CUDA libraries it was built for (CTranslate2 4 needs CUDA 12) would otherwise
        fail every sentence of the run, one pair at a time (seen on a CUDA 13 machine).  The probe
        holds ordinary tokens (unknown ones become <unk>): an input of only </s> is empty to
        CTranslate2 and computes nothing."""
        try:
            self.translator.translate_batch([["▁a", "▁b", "▁c"]] * 2, beam_size=1, max_decoding_length=2)
        except RuntimeError as err:
            reason = " ".join(str(err).split())
            raise OptionsError(
                f"CTranslate2 {ctranslate2.__version__} sees a GPU but cannot compute on it ({reason}); install "
                "the CUDA libraries it was built for (https://opennmt.net/CTranslate2/installation.html) "
                "or run with --device cpu."
            ) from err

    def _ct2_dir(self) -> Path:
        """The directory holding CTranslate2's model.bin."""
        return self.model_dir

    def _stored_quantization(self) -> str:
        """The quantization the weights were stored in (what `compute_type` maps to this device)."""
        return read_metadata(self.model_dir)["quantization"]

    def _read_model_facts(self) -> None:
        """Set the limits and shape decoding needs (TokenizedModel), from the checkpoint's own files."""
        hf = self.model_dir / HF_FILES
        config = _json(hf / "config.json")
        generation = _json(hf / "generation_config.json")
        self.model_beam = checkpoint_beam(read_generation_config(hf) or {})  # the conversion keeps the checkpoint's files
        self.min_new_tokens = positive(generation.get("min_new_tokens"))
        self.max_new_tokens = positive(generation.get("max_new_tokens"))
        self.model_limit = model_token_limit(getattr(self.tokenizer, "model_max_length", None),
                                        config.get("max_position_embeddings"))
        self.decoder_shape = (int(config.get("decoder_layers") or 6), int(config.get("d_model") or 512),
                       int(config.get("vocab_size") or 32000))

    def _load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            return AutoTokenizer.from_pretrained(self.model_dir / HF_FILES, local_files_only=True, trust_remote_code=False)
        except Exception as err:  # noqa: BLE001 - any broken directory is one line and a skipped route
            raise EngineError(f"Model {self.model_id}: the tokenizer in {self.model_dir / HF_FILES} could not be "
                              f"loaded ({type(err).__name__}: {err}); convert the model again.") from err

    @property
    def runtime(self) -> str:
        return runtime_name(CTRANSLATE2, self.compute_type)

    @property
    def default_beam(self) -> int:
        return self.model_beam

    @property
    def quantization(self) -> str:
        return self.compute_type

    def translate_multi(
        self, rows: Sequence[Row], on_progress: Callable[[int], None] | None = None, decoding: Decoding | None = None,
    ) -> list[str]:
        """Translate rows of any pairs in shared, length-sorted, token-budget batches; blank rows stay blank."""
        results = [""] * len(rows)
        todo = [i for i, (text, _, _) in enumerate(rows) if text.strip()]
        if not todo:
            return results
        work = [rows[i] for i in todo]
        sources = self._source_tokens(work)
        prefixes = self._target_prefixes(work)
        lengths = [len(tokens) for tokens in sources]
        self._check_lengths(lengths)
        budgets = [self.output_tokens(n) for n in lengths]
        beam = (decoding.beam if decoding and decoding.beam else None) or self.beam
        extra = decoding.penalties() if decoding else {}
        batches = token_batches(lengths, self.batch_budget(self.device, lengths, beam))
        outputs = []
        for batch in batches:
            outputs.append(self._halving(batch, lambda part: self._decode_batch(part, sources, prefixes, budgets, beam, extra)))
            if on_progress:
                on_progress(len(batch))
        for i, text in zip(todo, scatter(batches, outputs, len(work))):
            results[i] = text
        return results

    def _decode_batch(
        self, part: list[int], sources: list[list[str]], prefixes: list[list[str]] | None,
        budgets: list[int], beam: int, extra: dict[str, Any],
    ) -> list[str]:
        hypotheses = self._search(part, sources, prefixes, budgets, beam, extra)
        longest = max(budgets[k] for k in part)
        # A row whose search ended before its own budget's last step ended as it would alone; one
        # that ran on to it (or past it, under a longer row's budget) would have been stopped
        # there and the beams compared at that step, which beam search may settle differently
        # from cutting a longer hypothesis back.  Those few rows are searched again, each with
        # rows of its own budget.
        again = [k for k, tokens in zip(part, hypotheses) if beam > 1 and budgets[k] < longest
                 and len(tokens) >= budgets[k] - 1]
        if again:
            redone: dict[int, list[str]] = {}
            for run in split_where(sorted(again, key=lambda k: (budgets[k], k)), budgets.__getitem__):
                redone.update(zip(run, self._search(run, sources, prefixes, budgets, beam, extra)))
            hypotheses = [redone.get(k, tokens) for k, tokens in zip(part, hypotheses)]
        outputs = []
        for k, tokens in zip(part, hypotheses):
            tokens = tokens[: budgets[k]]
            if prefixes is not None:
                tokens = tokens[len(prefixes[k]) :]
            outputs.append(tokens)
        return self._detokenize(outputs)

    def _search(
        self, part: list[int], sources: list[list[str]], prefixes: list[list[str]] | None,
        budgets: list[int], beam: int, extra: dict[str, Any],
    ) -> list[list[str]]:
        """The best hypothesis of each row (target prefix included), decoded to the rows' longest budget."""
        batch = [sources[k] for k in part]
        prefix = [prefixes[k] for k in part] if prefixes is not None else None
        results = self.translator.translate_batch(
            batch,
            target_prefix=prefix,
            beam_size=beam,
            num_hypotheses=1,
            max_batch_size=0,  # the batch is already cut to the budget
            # Never truncate (the default cuts at 1,024); +1 for the </s> CTranslate2 itself appends
            # where the model's config asks for it (Argos packages), which the limit counts too.
            max_input_length=max(len(tokens) for tokens in batch) + 1,
            max_decoding_length=max(budgets[k] for k in part),
            min_decoding_length=self.min_new_tokens or 0,
            return_end_token=False,
            **extra,
        )
        return [result.hypotheses[0] for result in results]

    def _detokenize(self, outputs: list[list[str]]) -> list[str]:
        """Each row's output tokens as text."""
        ids = [self.tokenizer.convert_tokens_to_ids(tokens) for tokens in outputs]
        return [text.strip() for text in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        return [self.tokenizer.convert_ids_to_tokens(ids) for ids in self.tokenizer(texts)["input_ids"]]

    @abstractmethod
    def _source_tokens(self, rows: list[Row]) -> list[list[str]]:
        """Each row's source as the model's tokens (special tokens included)."""

    def _target_prefixes(self, rows: list[Row]) -> list[list[str]] | None:
        return None


class Ct2MarianEngine(MarianVocabulary, Ct2Engine):
    """An opus-mt model in CTranslate2; multi-target ones get their `>>xx<<` token in the source."""

    def _source_tokens(self, rows: list[Row]) -> list[list[str]]:
        return self._tokens([self._with_target_token(text, tgt) for text, _, tgt in rows])


class Ct2NllbEngine(NllbVocabulary, Ct2Engine):
    """An NLLB-200 model in CTranslate2: the source language token comes from the tokenizer,
    the target language is each row's one-token target prefix."""

    def _source_tokens(self, rows: list[Row]) -> list[list[str]]:
        return [self.tokenizer.convert_ids_to_tokens(ids) for ids in self._source_ids([(src, text) for text, src, _ in rows])]

    def _target_prefixes(self, rows: list[Row]) -> list[list[str]]:
        tokens = {tgt: self._language_token(tgt) for tgt in {tgt for _, _, tgt in rows}}
        return [[tokens[tgt]] for _, _, tgt in rows]


_ENGINES: dict[str, type[Ct2Engine]] = {"marian": Ct2MarianEngine, "nllb": Ct2NllbEngine}


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as err:
        raise EngineError(f"{path} is not valid JSON ({err}); convert the model again.") from err

