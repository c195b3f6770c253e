"""NLLB-200 models (M2M100 architecture, FLORES-200 language tokens).

One model serves every pair: the source language is a token the tokenizer puts in
front of the input, and the target language is forced as the first generated token.
"""

from __future__ import annotations

from typing import Any

from ..languages import flores_code
from .base import ModelUnavailable
from .transformers_common import Seq2SeqEngine


class NllbEngine(Seq2SeqEngine):
    """An NLLB-200 checkpoint; every segment of one `translate` call shares src and tgt."""

    def check(self, src: str, tgt: str) -> None:
        """Both languages need a FLORES-200 token in this checkpoint."""
        self._language_token(src)
        self._language_token(tgt)

    def _generation_kwargs(self, src: str, tgt: str) -> dict[str, Any]:
        # The tokenizer is stateful: src_lang decides the language token it prepends.
        self.tokenizer.src_lang = self._language_token(src)
        return {"forced_bos_token_id": self.tokenizer.convert_tokens_to_ids(self._language_token(tgt))}

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
