"""MarianMT (Helsinki-NLP opus-mt) models.

Most opus-mt models serve one language pair.  Multi-target ones (opus-mt-en-ROMANCE,
opus-mt-en-ar, ...) pick the output language from a token such as `>>fr<<` at the
start of the source, which models.yaml describes with `target_token` and `target_codes`
(vocabulary.py checks and adds it, for both runtimes).
"""

from __future__ import annotations

from .transformers_common import Seq2SeqEngine
from .vocabulary import MarianVocabulary


class MarianEngine(MarianVocabulary, Seq2SeqEngine):
    """An opus-mt checkpoint; prefixes the target-language token when the model needs one."""

    def _prepare_inputs(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return [self._with_target_token(text, tgt) for text in texts]
