"""What both runtimes of a Marian or NLLB model share: the Hugging Face tokenizer's view of it.

The transformers runtime (transformers_common.py) and the CTranslate2 runtime (ct2.py)
load the same tokenizer and must agree on everything decided around decoding: how long
an input is, what the model takes, which characters it cannot represent, which language
tokens it has, how many tokens an output may have, and how many rows a CPU batch holds.  Keeping that here means a converted model refuses and counts
exactly what the original does.  This module imports neither torch nor CTranslate2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..languages import flores_code
from .batching import CPU_BATCH_MEMORY, Budget, decoder_row_bytes
from .base import Decoding, Engine, EngineError, ModelUnavailable

# Tokenizers without a configured limit report ~1e30; anything above this is "unset".
_SANE_TOKEN_LIMIT = 1_000_000


def model_token_limit(tokenizer_limit: int | None, positions: int | None) -> int | None:
    """The longest input the model takes: the tokenizer's limit when configured, never more
    than the model's position table; None when neither says."""
    limits = [int(n) for n in (tokenizer_limit, positions) if n and 0 < n < _SANE_TOKEN_LIMIT]
    return min(limits) if limits else None


def positive(value: Any) -> int | None:
    """A generation-config count that is set (a positive int), else None."""
    return int(value) if isinstance(value, int) and value > 0 else None


class TokenizedModel(Engine):
    """An engine whose inputs are measured by a Hugging Face tokenizer (`self.tokenizer`) and
    bounded by `self.model_limit`; subclasses set both while loading."""

    tokenizer: Any
    model_limit: int | None
    max_new_tokens: int | None  # the checkpoint's generation config; None when it sets none
    min_new_tokens: int | None
    decoder_shape: tuple[int, int, int]  # decoder layers, d_model, vocabulary: what a decoding row costs
    _unknown: dict[str, bool]  # character -> tokenizes to <unk>; set empty while loading, filled as met

    @property
    def max_input_tokens(self) -> int | None:
        """models.yaml may ask for less than the model takes (e.g. where quality drops)."""
        return self.spec.max_input_tokens or self.model_limit

    def translate(self, segments: Sequence[str], src: str, tgt: str, decoding: Decoding | None = None) -> list[str]:
        """One pair is a job of one pair: the same batching and budgets as a whole run's."""
        return self.translate_multi([(text, src, tgt) for text in segments], decoding=decoding)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Counts include special tokens, since they take positions in the model's input too."""
        if not texts:
            return []
        extra = self._extra_input_tokens()
        return [len(ids) + extra for ids in self.tokenizer(list(texts))["input_ids"]]

    def unknown_characters(self, text: str) -> set[str]:
        """Characters the tokenizer turns into <unk>, each tokenized once per run."""
        unk = self.tokenizer.unk_token_id
        if unk is None:
            return set()
        for char in set(text) - self._unknown.keys():
            self._unknown[char] = not char.isspace() and unk in self.tokenizer(char, add_special_tokens=False)["input_ids"]
        return {char for char in set(text) if self._unknown[char]}

    def output_tokens(self, input_tokens: int) -> int:
        """Most tokens a row may decode, its </s> not counted: 2 x its input + 9, within the
        model's positions and the checkpoint's max/min_new_tokens as `generate` bounds them.
        Long sentences are not cut short, a degenerate repetition ends where it would end
        alone, and both runtimes stop at the same token."""
        budget = 2 * input_tokens + 9
        if self.model_limit:
            budget = min(budget, self.model_limit - 2)
        if self.max_new_tokens:
            budget = min(budget, self.max_new_tokens)
        if self.min_new_tokens:
            budget = max(budget, self.min_new_tokens)
        return max(1, budget)

    def batch_budget(self, device: str, lengths: Sequence[int], beam: int) -> Budget:
        """The device's batch budget (batching.py) for a job of inputs of these lengths: on a CPU
        no more rows than fit the batch memory at this model's size (a GPU that runs out of
        memory halves the batch instead); the run's `batch_size`, when set, caps the rows."""
        budget = Budget.for_device(device, beam)
        if device == "cpu" and lengths:
            typical = sorted(lengths)[len(lengths) // 2]
            # +1: the </s> step takes its caches and logits too
            row = decoder_row_bytes(*self.decoder_shape, typical, self.output_tokens(typical) + 1, beam)
            budget = budget.within(row, CPU_BATCH_MEMORY)
        if self.options.batch_size:
            budget = Budget(budget.max_tokens, max(1, min(budget.max_rows, self.options.batch_size)))
        return budget

    def _check_lengths(self, lengths: list[int]) -> None:
        """Over-long input would be truncated or crash the position table: refuse it loudly,
        since splitting long sentences is the runner's job."""
        if self.model_limit is None or not lengths:
            return
        longest = max(lengths)
        if longest > self.model_limit:
            raise EngineError(
                f"A segment has {longest} tokens, more than model {self.model_id} takes ({self.model_limit}); "
                "it should have been split before translation."
            )

    def _extra_input_tokens(self) -> int:
        """Hook: tokens added to the source that `count_tokens` does not see (Marian's `>>xx<<`)."""
        return 0


class MarianVocabulary(TokenizedModel):
    """opus-mt: multi-target models pick the output language from a `>>xx<<` source token,
    which models.yaml describes with `target_token` and `target_codes`."""

    def check(self, src: str, tgt: str) -> None:
        """A multi-target model serves only the targets it has a token for."""
        self._target_token(tgt)

    def _extra_input_tokens(self) -> int:
        return 1 if self.spec.target_token else 0

    def _with_target_token(self, text: str, tgt: str) -> str:
        token = self._target_token(tgt)
        return f"{token} {text}" if token else text

    def _target_token(self, tgt: str) -> str | None:
        """The `>>xx<<` token for `tgt`, checked against the vocabulary: an unknown one would be
        tokenized as text and the model would silently pick some other language."""
        if not self.spec.target_token:
            return None
        token = self.spec.target_token.format(code=self.spec.target_codes.get(tgt, tgt))
        vocabulary = self.tokenizer.get_vocab()
        if token not in vocabulary:
            known = sorted(t for t in vocabulary if t.startswith(">>") and t.endswith("<<"))
            raise ModelUnavailable(
                f"Model {self.model_id} has no target token {token} for {tgt!r}; "
                f"it knows: {', '.join(known) or 'none'}."
            )
        return token


class NllbVocabulary(TokenizedModel):
    """NLLB-200: the source language is a token the tokenizer prepends (its `src_lang`), the
    target language the first token decoded; both are FLORES-200 codes."""

    def check(self, src: str, tgt: str) -> None:
        """Both languages need a FLORES-200 token in this checkpoint."""
        self._language_token(src)
        self._language_token(tgt)

    def _source_ids(self, sources: Sequence[tuple[str, str]]) -> list[list[int]]:
        """Token ids per (src, text), tokenized per source language, since the tokenizer's
        stateful `src_lang` decides the token it prepends."""
        out: list[list[int]] = [[] for _ in sources]
        by_language: dict[str, list[int]] = {}
        for n, (src, _) in enumerate(sources):
            by_language.setdefault(src, []).append(n)
        for src, members in by_language.items():
            self.tokenizer.src_lang = self._language_token(src)
            for n, row in zip(members, self.tokenizer([sources[n][1] for n in members])["input_ids"]):
                out[n] = row
        return out

    def _language_token(self, code: str) -> str:
        """Our code as a FLORES-200 token this model knows; an unknown token would become
        <unk> and the model would translate into whatever language it liked."""
        try:
            token = flores_code(code)
        except ValueError as err:
            raise ModelUnavailable(f"Model {self.model_id}: {err}") from err
        if self.tokenizer.convert_tokens_to_ids(token) == self.tokenizer.unk_token_id:
            raise ModelUnavailable(f"Model {self.model_id} has no language token {token} (for {code!r}).")
        return token
