"""Build tiny but real MarianMT and NLLB-200 checkpoints for tests and offline demos.

The engines must be exercised through the same loading code that serves the real
opus-mt and NLLB models, without the network and in seconds.  These checkpoints
have real tokenizers (SentencePiece trained on news text embedded below, so
Norwegian and English round-trip without <unk>) and real architectures with random,
seeded weights: their translations are gibberish, but deterministic.

    python scripts/make_tiny_models.py OUTDIR     # writes OUTDIR/tiny-marian, OUTDIR/tiny-nllb

The recipes follow what was verified with transformers 5 (see shared/NOTES.md).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Copied (abridged) from a Norwegian EM24 news article, so the build needs no other file.
NORWEGIAN = """\
Da Nord-Koreas leder Kim Jong Un reiste til Øst-Russland for å møte president Putin, oppsto spekulasjoner om Nord-Korea skulle gjenoppbygge Russlands ammunisjonslagre for Kremls krig mot Ukraina.
Det vises til tidligere artikler i EM24 EuropMedia, samt avsnittet «Kina og Russland motarbeider USA i Nord-Korea-saken» i artikkelen.
Det hvite hus’ talsmann for nasjonal sikkerhet, John Kirby, har meddelt at Nord-Korea har levert mer enn 1.000 containere til Russland med militært utstyr inkludert ammunisjon, artillerigranater og raketter.
Opplysningene ble underbygd med bilder som viste at containerne ble lastet på et russisk-flagget skip før de ble fraktet med tog til det sørvestlige Russland.
Containerne hadde blitt fraktet fra Najin i det nordøstlige Nord-Korea til en russisk havn nær Vladivostok, i tiden fra 7. september til 1. oktober.
Det utvidede militære partnerskapet, inkludert teknologioverføring fra Russland til Nord-Korea, undergraver regional stabilitet og det globale ikke-spredningsregimet.
Ifølge Korean Central News Agency, skal Kim Jong Un visstnok, etter møtet med Putin i forrige måned, ha bedt om at hans land skal øke sin produksjon av atomvåpen eksponentielt.
Nord-Koreas grunnlov, om det finnes noen, skal derfor inkludere ny politikk om å utvide landets atomvåpenprogram.
I tillegg til å fortsette å håndheve de pågående sanksjoner, vil FNs sikkerhetsråd bli orientert i den grad det hjelper, ettersom handlingene bryter resolusjoner.
Det vil i hvert fall avsløre om Nord-Korea har løpende våpenavtaler med Russland, med unntak av noen år i perioden relatert til president Mikhail Gorbachev.
Featured image: Nordkoreanske våpenleveranser til Russland, 16/10/2023.
Alle artikler kan leses på mer enn 100 språk. Informer fem av vennene dine om magasinet!
Regjeringen vil legge fram et nytt forslag om skatt på strøm og vannkraft i Norge.
Været i Oslo blir kaldt i morgen, med snø på Østlandet og regn langs kysten.
Hva mener du? Skriv til oss på e-post: redaksjonen@em24.uk eller se www.em24.uk.
"""

ENGLISH = """\
When North Korea's leader Kim Jong Un travelled to eastern Russia to meet President Putin, speculation arose that North Korea would rebuild Russia's ammunition stocks for the Kremlin's war against Ukraine.
The White House national security spokesman, John Kirby, said that North Korea has delivered more than 1,000 containers of military equipment to Russia, including ammunition, artillery shells and rockets.
The information was backed by pictures showing the containers being loaded onto a Russian-flagged ship before they were moved by train to south-western Russia.
The containers had been shipped from Najin in north-eastern North Korea to a Russian port near Vladivostok between 7 September and 1 October.
The expanded military partnership, including technology transfer from Russia to North Korea, undermines regional stability and the global non-proliferation regime.
According to the Korean Central News Agency, Kim Jong Un reportedly asked his country to increase its production of nuclear weapons exponentially.
In addition to enforcing the ongoing sanctions, the UN Security Council will be informed, as the actions violate resolutions.
All articles can be read in more than 100 languages. Inform five of your friends about the magazine!
The government will present a new proposal on taxes on electricity and hydropower in Norway.
The weather in Oslo will be cold tomorrow, with snow in the east and rain along the coast.
What do you think? Write to us by e-mail: editors@em24.uk or visit www.em24.uk (16/10/2023).
"""

MARIAN_TARGET_TOKENS = [">>de<<", ">>fr<<", ">>uk<<"]  # multi-target opus-mt style prefixes
D_MODEL = 32
# Far above the usual 0.02: with small weights the sinusoidal positions drown the input and
# every sentence "translates" the same, so a test could not tell if outputs were reordered.
INIT_STD = 1.0


# One encoder and one decoder layer of width D_MODEL: big enough to exercise every code path.
TINY_SHAPE = dict(
    d_model=D_MODEL,
    encoder_layers=1,
    decoder_layers=1,
    encoder_attention_heads=2,
    decoder_attention_heads=2,
    encoder_ffn_dim=2 * D_MODEL,
    decoder_ffn_dim=2 * D_MODEL,
)


def _lines(*texts: str) -> list[str]:
    return [line for text in texts for line in text.splitlines() if line.strip()]


def _train_spm(lines: Iterable[str], **options: object) -> bytes:
    """Train SentencePiece in memory; one thread and a soft vocabulary limit keep it
    deterministic and tolerant of the tiny corpus."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines)),
        model_writer=out,
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
        **options,
    )
    return out.getvalue()


def _spm_pieces(model: bytes) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=model)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def _marian_vocab(source: bytes, target: bytes) -> dict[str, int]:
    """One shared vocab.json like opus-mt: `</s>`=0, `<unk>`=1, every piece of both
    SentencePiece models, `<pad>` last (pad is also the decoder start)."""
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in _spm_pieces(source) + _spm_pieces(target):
        if piece not in vocab and piece not in ("<s>", "<pad>"):
            vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def build_tiny_marian(out_dir: Path, seed: int = 0) -> Path:
    """A Norwegian→English opus-mt-style checkpoint whose source vocabulary also holds
    `>>de<<`, `>>fr<<`, `>>uk<<` so the multi-target prefix path can be tested."""
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = _train_spm(
        _lines(NORWEGIAN), model_type="unigram", vocab_size=300, user_defined_symbols=MARIAN_TARGET_TOKENS
    )
    target = _train_spm(_lines(ENGLISH), model_type="unigram", vocab_size=300)
    (out_dir / "source.spm").write_bytes(source)
    (out_dir / "target.spm").write_bytes(target)
    vocab = _marian_vocab(source, target)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")

    tokenizer = MarianTokenizer(
        source_spm=str(out_dir / "source.spm"),
        target_spm=str(out_dir / "target.spm"),
        vocab=str(out_dir / "vocab.json"),
        source_lang="nb",
        target_lang="en",
        model_max_length=512,
    )
    tokenizer.save_pretrained(out_dir)

    pad, eos = vocab["<pad>"], vocab["</s>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        **TINY_SHAPE,
        max_position_embeddings=512,
        init_std=INIT_STD,
        activation_function="swish",
        scale_embedding=True,
        pad_token_id=pad,
        eos_token_id=eos,
        forced_eos_token_id=eos,
        decoder_start_token_id=pad,
    )
    # Mirrors the real opus-mt generation_config (beam 4, max_length 512) so the engine's
    # own choices (greedy unless asked, max_new_tokens from the input) are really tested.
    generation = GenerationConfig(
        bos_token_id=eos,
        decoder_start_token_id=pad,
        eos_token_id=eos,
        forced_eos_token_id=eos,
        pad_token_id=pad,
        bad_words_ids=[[pad]],
        max_length=512,
        num_beams=4,
        renormalize_logits=True,
    )
    _save_seeded(MarianMTModel, config, generation, out_dir, seed)
    return out_dir


def build_tiny_nllb(out_dir: Path, seed: int = 0) -> Path:
    """An NLLB-200-style checkpoint (M2M100 architecture, BPE SentencePiece with fairseq
    ids); NllbTokenizer adds the FLORES-200 language tokens itself."""
    from tokenizers.models import BPE
    from transformers import GenerationConfig, M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer
    from transformers.convert_slow_tokenizer import SentencePieceExtractor

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Fairseq ids (pad=1) matter: a pad id beyond M2M100's sinusoidal table crashes it.
    model = _train_spm(
        _lines(NORWEGIAN, ENGLISH),
        model_type="bpe",
        vocab_size=600,
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        normalization_rule_name="nmt_nfkc",
    )
    spm_path = out_dir / "sentencepiece.bpe.model"
    spm_path.write_bytes(model)
    # Only vocab and merges: the extractor's other keys would replace the FLORES tokens.
    extracted = SentencePieceExtractor(str(spm_path)).extract(BPE)
    tokenizer = NllbTokenizer(
        vocab=extracted["vocab"],
        merges=extracted["merges"],
        src_lang="nob_Latn",
        tgt_lang="eng_Latn",
        model_max_length=1024,
    )
    tokenizer.save_pretrained(out_dir)

    config = M2M100Config(
        vocab_size=len(tokenizer),
        **TINY_SHAPE,
        max_position_embeddings=1024,
        init_std=INIT_STD,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    generation = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_length=200,
    )
    _save_seeded(M2M100ForConditionalGeneration, config, generation, out_dir, seed)
    return out_dir


def _save_seeded(model_class: type, config: Any, generation: Any, out_dir: Path, seed: int) -> None:
    """Seed right before construction so the same seed always gives the same weights."""
    import torch

    torch.manual_seed(seed)
    model = model_class(config).eval()
    model.generation_config = generation
    model.save_pretrained(out_dir)  # safetensors: multitrans never loads pickles


TINY_REGISTRY = """\
# Tiny random test models: they exercise every engine and route, and write nonsense.
models:
  tiny-marian: {engine: marian, model: ./tiny-marian}
  tiny-marian-multi: {engine: marian, model: ./tiny-marian, target_token: ">>{code}<<"}
  tiny-nllb: {engine: nllb, model: ./tiny-nllb}
  apertium: {engine: apertium}
routes:
  - {from: nb, to: en, use: [tiny-marian]}
  - {from: nb, to: [de, fr, uk], use: [tiny-marian-multi]}
  - {from: nb, to: [nn, da, sv], use: [apertium]}
  - {from: "*", to: "*", use: [tiny-nllb]}
"""


def write_tiny_registry(root: Path) -> Path:
    """A models.yaml routing nb→en/de/fr/uk to the tiny Marian (with >>xx<< tokens) and the rest to tiny NLLB."""
    path = root / "models.yaml"
    path.write_text(TINY_REGISTRY, encoding="utf-8")
    return path


def build_all(root: Path, seed: int = 0) -> Path:
    """Both tiny models and a registry for them under `root`; returns the registry's path."""
    build_tiny_marian(root / "tiny-marian", seed)
    build_tiny_nllb(root / "tiny-nllb", seed)
    return write_tiny_registry(root)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/make_tiny_models.py OUTDIR", file=sys.stderr)
        return 2
    registry = build_all(Path(argv[0]))
    print(f"tiny models and their registry: {registry}")
    print(f"try: multitrans translate article.txt --to en,de,fr --models {registry}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
