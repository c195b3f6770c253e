"""What MarianMT and NLLB share: loading a seq2seq checkpoint once, batched generation.

Torch and transformers are imported here (and only by engine modules) because
importing them costs seconds that `multitrans --help` must not pay.  Subclasses only
say how a segment is prepared for their model (a `>>xx<<` prefix, a source-language
token) and which extra generation arguments they need (NLLB's forced BOS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from transformers.utils import logging as hf_logging
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from .batching import HalvingRunner, cpu_threads, token_batches
from .base import Decoding, EngineError, EngineOptions, ModelSpec, OptionsError
from .hub import load_options, resolve_model_dir, unsafe_checkpoint
from .identity import TRANSFORMERS, checkpoint_beam, runtime_name, snapshot_revision
from .vocabulary import TokenizedModel, model_token_limit, positive


class Seq2SeqEngine(TokenizedModel):
    """One Hugging Face encoder-decoder translation model, loaded for the whole run."""

    tunable_decoding = True

    def __init__(self, spec: ModelSpec, options: EngineOptions) -> None:
        super().__init__(spec, options)
        self.model_dir = resolve_model_dir(spec, options)
        self.device = select_device(options.device)
        self.tokenizer, self.model = self._load()
        self._unknown = {}
        # A CUDA out-of-memory error halves the batch and retries (batching.py) instead of failing the pair.
        self._halving = HalvingRunner(on_oom=torch.cuda.empty_cache if self.device.type == "cuda" else None)
        self.model_limit = model_token_limit(
            getattr(self.tokenizer, "model_max_length", None),
            getattr(self.model.config, "max_position_embeddings", None),
        )
        generation, config = self.model.generation_config, self.model.config
        self.max_new_tokens = positive(generation.max_new_tokens)
        self.min_new_tokens = positive(generation.min_new_tokens)
        self.decoder_shape = (config.decoder_layers, config.d_model, config.vocab_size)

    def _load(self) -> tuple[Any, Any]:
        """Local files only and no remote code: the directory was resolved (and vetted) already."""
        # The CLI draws its own progress; transformers' per-load weight bars would garble it.
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True, trust_remote_code=False)
            model = AutoModelForSeq2SeqLM.from_pretrained(self.model_dir, **load_options(self.model_dir))
        except Exception as err:  # noqa: BLE001 - a truncated safetensors file raises SafetensorError, a
            # directory missing its .spm files a TypeError: any broken model directory must become
            # one line and a skipped route, never a crash of the whole run.
            unsafe = unsafe_checkpoint(err, self.spec, self.model_dir)
            if unsafe is not None:
                raise unsafe from err
            raise EngineError(
                f"Model {self.model_id} in {self.model_dir} could not be loaded "
                f"(corrupt or incomplete model directory?): {type(err).__name__}: {err}"
            ) from err
        if self.device.type == "cuda":
            # Half precision doubles what a batch may hold; bfloat16 where the GPU has it, since
            # it cannot overflow where float16 can.
            model.to(self.device, dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
        else:
            torch.set_num_threads(cpu_threads())  # every core we may use, and no more (see batching.py)
            model.to(self.device)
        model.eval()
        return tokenizer, model

    @property
    def runtime(self) -> str:
        return runtime_name(TRANSFORMERS, self.quantization)

    @property
    def default_beam(self) -> int:
        return checkpoint_beam(self.model.generation_config.to_dict())

    @property
    def quantization(self) -> str:
        """The dtype the model was loaded in (float32 on CPU, half precision on CUDA)."""
        return str(self.model.dtype).removeprefix("torch.")

    @property
    def revision(self) -> str:
        return snapshot_revision(self.model_dir, self.spec.revision)

    def translate_multi(
        self, rows: Sequence[tuple[str, str, str]], on_progress: Callable[[int], None] | None = None,
        decoding: Decoding | None = None,
    ) -> list[str]:
        """Rows of any pairs in shared, length-sorted, token-budget batches; blank rows stay blank.

        Rows share a batch when their `generate` arguments agree (Marian carries the target in
        its `>>xx<<` input token, so all of a job's rows can); NLLB overrides this to share
        one encoder pass among all targets of a segment.
        """
        results = [""] * len(rows)
        todo = [i for i, (text, _, _) in enumerate(rows) if text.strip()]
        if not todo:
            return results
        beam, tuning = self._decoding(decoding)
        inputs: dict[int, str] = {}
        lengths: dict[int, int] = {}
        kwargs: dict[tuple[str, str], dict[str, Any]] = {}
        for (src, tgt), indices in _by_pair(rows, todo).items():
            kwargs[(src, tgt)] = self._generation_kwargs(src, tgt)  # may set the tokenizer's source language
            prepared = self._prepare_inputs([rows[i][0] for i in indices], src, tgt)
            for i, text, ids in zip(indices, prepared, self.tokenizer(prepared)["input_ids"]):
                inputs[i], lengths[i] = text, len(ids)
        self._check_lengths(list(lengths.values()))
        groups: dict[str, list[int]] = {}
        for i in todo:
            groups.setdefault(repr(sorted(kwargs[rows[i][1:]].items())), []).append(i)
        budget = self.batch_budget(self.device.type, list(lengths.values()), beam)
        for members in groups.values():
            pair = rows[members[0]][1:]
            for batch in token_batches([lengths[i] for i in members], budget):
                part_rows = [members[k] for k in batch]

                def run(part: list[int], pair: tuple[str, str] = pair) -> list[str]:
                    extra = {**self._generation_kwargs(*pair), **tuning}  # (re)sets tokenizer state for this group
                    return self._generate([inputs[i] for i in part], [lengths[i] for i in part], extra, beam)

                for i, text in zip(part_rows, self._halving(part_rows, run), strict=True):
                    results[i] = text
                if on_progress:
                    on_progress(len(part_rows))
        return results

    def _decoding(self, decoding: Decoding | None) -> tuple[int, dict[str, Any]]:
        """Beam size and extra `generate` arguments for a call, the run's unless `decoding` overrides."""
        if decoding is None:
            return self.beam, {}
        return decoding.beam or self.beam, decoding.penalties()

    def close(self) -> None:
        """Free the model now rather than at garbage collection, so the next one fits on the GPU.
        The engine cannot translate afterwards."""
        del self.model
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _prepare_inputs(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """Hook: the source strings as this model wants them (Marian adds `>>xx<<` here)."""
        return texts

    def _generation_kwargs(self, src: str, tgt: str) -> dict[str, Any]:
        """Hook: extra `generate` arguments for this pair (NLLB forces the target language)."""
        return {}

    def _generate(self, texts: list[str], lengths: list[int], extra: dict[str, Any], beam: int | None = None) -> list[str]:
        beam = beam or self.beam
        encoded = self.tokenizer(texts, padding=True, return_tensors="pt").to(self.device)
        budgets = [self._output_budget(n) for n in lengths]
        row_limit = RowLengthLimit(budgets, self._eos_id(), beam, self.device)
        with torch.inference_mode():
            output_ids = self.model.generate(
                **encoded,
                **extra,
                num_beams=beam,
                do_sample=False,
                logits_processor=LogitsProcessorList([row_limit]),
                # max_length rather than max_new_tokens: the checkpoint's generation_config sets
                # max_length too and transformers warns when both are set. +1 is the decoder start.
                max_length=max(budgets) + 1,
                max_new_tokens=None,  # a checkpoint's max_new_tokens would override max_length (it is in the budget)
            )
        return [text.strip() for text in self.tokenizer.batch_decode(output_ids.cpu(), skip_special_tokens=True)]

    def _output_budget(self, input_tokens: int) -> int:
        """The shared output budget (vocabulary.py) with its </s> counted, as RowLengthLimit
        and `max_length` count it."""
        return self.output_tokens(input_tokens) + 1

    def _eos_id(self) -> int:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        return int(eos[0] if isinstance(eos, list) else eos)


class RowLengthLimit(LogitsProcessor):
    """Ends each row at its own length budget instead of the batch's longest.

    Without it, a segment that never emits </s> (a degenerate repetition) would stop at a
    length set by whichever segments shared its batch, so the same sentence could come out
    differently in two documents; with it, the output depends only on the segment.
    """

    def __init__(self, budgets: list[int], eos_id: int, num_beams: int, device: torch.device) -> None:
        # Beam search lays out each input's beams next to each other.
        self.budgets = torch.tensor(budgets, device=device).repeat_interleave(max(1, num_beams))
        self.eos_id = eos_id

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids.shape[1] - 1  # the first position is the decoder start token
        # The budget counts </s>, as transformers' forced_eos does at max_length - 1, so the
        # batch's longest row ends the same way whichever of the two fires.
        # Branch-free, so a GPU never waits on a host-side check at each step.
        done = self.budgets - 1 <= generated
        eos_scores = torch.where(done, torch.zeros_like(scores[:, self.eos_id]), scores[:, self.eos_id])
        scores = scores.masked_fill(done[:, None], float("-inf"))
        scores[:, self.eos_id] = eos_scores
        return scores


def select_device(name: str) -> torch.device:
    """`auto` uses a GPU when PyTorch sees one; asking for `cuda` without one is an error, not
    a silent fallback to a CPU run a hundred times slower."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise OptionsError(f"--device {name} was asked for, but PyTorch {torch.__version__} sees no CUDA GPU.")
        return torch.device(name)
    raise OptionsError(f"Unknown device {name!r}; use auto, cpu or cuda.")


def _by_pair(rows: Sequence[tuple[str, str, str]], indices: Sequence[int]) -> dict[tuple[str, str], list[int]]:
    """Row indices per (src, tgt), in first-seen order."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for i in indices:
        pairs.setdefault((rows[i][1], rows[i][2]), []).append(i)
    return pairs
