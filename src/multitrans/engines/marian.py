"""MarianMT (Helsinki-NLP opus-mt) models.

Most opus-mt models serve one language pair.  Multi-target ones (opus-mt-en-ROMANCE,
opus-mt-en-ar, ...) pick the output language from a token such as `>>fr<<` at the
start of the source, which models.yaml describes with `target_token` and `target_codes`.
"""

from __future__ import annotations

from .base import ModelUnavailable
from .transformers_common import Seq2SeqEngine


class MarianEngine(Seq2SeqEngine):
    """An opus-mt checkpoint; prefixes the target-language token when the model needs one."""

    def check(self, src: str, tgt: str) -> None:
        """A multi-target model serves only the targets it has a token for."""
        self._target_token(tgt)

    def _prepare_inputs(self, texts: list[str], src: str, tgt: str) -> list[str]:
        token = self._target_token(tgt)
        return [f"{token} {text}" for text in texts] if token else texts

    def _extra_input_tokens(self) -> int:
        return 1 if self.spec.target_token else 0

    def _target_token(self, tgt: str) -> str | None:
        """The `>>xx<<` token for `tgt`, checked against the vocabulary: an unknown one would be
        tokenized as text and the model would silently pick some other language."""
        if not self.spec.target_token:
            return None
        code = self.spec.target_codes.get(tgt, tgt)
        token = self.spec.target_token.format(code=code)
        vocabulary = self.tokenizer.get_vocab()
        if token not in vocabulary:
            known = sorted(t for t in vocabulary if t.startswith(">>") and t.endswith("<<"))
            raise ModelUnavailable(
                f"Model {self.model_id} has no target token {token} for {tgt!r}; "
                f"it knows: {', '.join(known) or 'none'}."
            )
        return token
