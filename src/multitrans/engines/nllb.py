"""NLLB-200 models (M2M100 architecture, FLORES-200 language tokens).

One model serves every pair: the source language is a token the tokenizer puts in
front of the input, and the target language is forced as the first generated token.

For a whole job (`translate_multi`), a segment going into K languages is encoded once:
the encoder's output is repeated for its K rows, and each row starts the decoder with
its own language token, so one batch mixes target languages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from transformers import LogitsProcessorList
from transformers.modeling_outputs import BaseModelOutput

from .batching import token_batches
from .base import Decoding
from .transformers_common import RowLengthLimit, Seq2SeqEngine
from .vocabulary import NllbVocabulary


class NllbEngine(NllbVocabulary, Seq2SeqEngine):
    """An NLLB-200 checkpoint; every segment of one `translate` call shares src and tgt."""

    def translate_multi(
        self, rows: Sequence[tuple[str, str, str]], on_progress: Callable[[int], None] | None = None,
        decoding: Decoding | None = None,
    ) -> list[str]:
        """Each distinct (source language, segment) is encoded once for all its target rows;
        batches are cut by a token budget that counts every decoder row."""
        results = [""] * len(rows)
        todo = [i for i, (text, _, _) in enumerate(rows) if text.strip()]
        if not todo:
            return results
        beam, tuning = self._decoding(decoding)
        sources = list(dict.fromkeys((rows[i][1], rows[i][0]) for i in todo))  # (src, text)
        position = {source: n for n, source in enumerate(sources)}
        fan: list[list[int]] = [[] for _ in sources]  # row indices per source
        for i in todo:
            fan[position[(rows[i][1], rows[i][0])]].append(i)
        ids = self._source_ids(sources)
        lengths = [len(x) for x in ids]
        self._check_lengths(lengths)
        languages = {tgt: self.tokenizer.convert_tokens_to_ids(self._language_token(tgt)) for tgt in {rows[i][2] for i in todo}}
        budget = self.batch_budget(self.device.type, lengths, beam)
        for batch in token_batches(lengths, budget, weights=[len(rows_of) for rows_of in fan]):
            members = [(s, i) for s in batch for i in fan[s]]  # decoder rows, grouped by source

            def run(part: list[tuple[int, int]]) -> list[str]:
                # Halving (out of memory) may split a segment's targets; each half encodes it again.
                local = list(dict.fromkeys(s for s, _ in part))
                where = {s: n for n, s in enumerate(local)}
                return self._generate_shared([ids[s] for s in local], [where[s] for s, _ in part],
                                             [languages[rows[i][2]] for _, i in part], beam, tuning)

            for (_, i), text in zip(members, self._halving(members, run), strict=True):
                results[i] = text
            if on_progress:
                on_progress(len(members))
        return results

    def _generate_shared(
        self, sources: list[list[int]], source_of: list[int], languages: list[int], beam: int, tuning: dict[str, Any],
    ) -> list[str]:
        """Encode `sources` once, then decode one row per (source_of[r], languages[r])."""
        padded = self.tokenizer.pad({"input_ids": sources}, return_tensors="pt").to(self.device)
        expand = torch.tensor(source_of, device=self.device)
        start = self.model.generation_config.decoder_start_token_id
        prefix = torch.tensor([[start, lang] for lang in languages], device=self.device)
        budgets = [self._output_budget(len(sources[s])) for s in source_of]
        minimum = self.min_new_tokens
        with torch.inference_mode():
            encoded = self.model.get_encoder()(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"])
            output_ids = self.model.generate(
                encoder_outputs=BaseModelOutput(last_hidden_state=encoded.last_hidden_state.index_select(0, expand)),
                attention_mask=padded["attention_mask"].index_select(0, expand),
                decoder_input_ids=prefix,
                **tuning,
                num_beams=beam,
                do_sample=False,
                logits_processor=LogitsProcessorList([RowLengthLimit(budgets, self._eos_id(), beam, self.device)]),
                max_length=max(budgets) + 1,
                max_new_tokens=None,
                # generate counts new tokens after the given prefix; the language token is one of ours.
                min_new_tokens=max(0, minimum - 1) if minimum else None,
            )
        return [t.strip() for t in self.tokenizer.batch_decode(output_ids.cpu(), skip_special_tokens=True)]

    def _generation_kwargs(self, src: str, tgt: str) -> dict[str, Any]:
        # The tokenizer is stateful: src_lang decides the language token it prepends.
        self.tokenizer.src_lang = self._language_token(src)
        return {"forced_bos_token_id": self.tokenizer.convert_tokens_to_ids(self._language_token(tgt))}
