#!/usr/bin/env python3
"""Real translation quality as a table: sacrebleu BLEU and chrF against NTREX-128's human references.

Every system runs on the same real news sentences (`../shared/data/ntrex-dev`, one sentence per
paragraph):

* Apertium Bokmål→Nynorsk/Danish/Swedish through `multitrans translate --from nb`;
* Chinese→English through `engine: argos` (the real OPUS-MT package) at beam 1 and beam 4;
* bare CTranslate2 on the same package (SentencePiece in, tokens joined out: no multitrans);
* Chinese→Spanish and Chinese→Catalan through a pivot route (`via: en`): the same zh→en model
  at beam 4, then Apertium eng-spa / eng-cat, against the bare chain (bare CTranslate2 beam 4,
  then `apertium -u` on each line alone);
* copying the source, the floor any translation must beat.

For the systems that run through multitrans it also reports the rate of each quality flag on
this real output, and the share of blocks whose detected language is not the one the file is
known to be in.  Seconds are wall-clock per system, model loading included.

    .venv/bin/python scripts/quality.py                       # the table
    .venv/bin/python scripts/quality.py --json quality.json   # and the figures for machines
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ntrex-dev"
MODEL = Path(os.environ.get("MULTITRANS_TEST_CACHE") or Path.home() / ".cache" / "multitrans-test") / "translate-zh_en-1_9.argosmodel"
APERTIUM_TARGETS = {"nn": "nno", "da": "dan", "sv": "swe"}
PIVOT_TARGETS = {"es": ("spa", "eng-spa"), "ca": ("cat", "eng-cat")}  # target: (NTREX file, Apertium mode)


def read_lines(path: Path, count: int) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:count]


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU and chrF as sacrebleu computes them by default (13a tokenization, chrF β=2)."""
    from sacrebleu.metrics import BLEU, CHRF

    refs = [list(references)]
    return {"bleu": round(BLEU().corpus_score(list(hypotheses), refs).score, 1),
            "chrf": round(CHRF().corpus_score(list(hypotheses), refs).score, 1)}


def bare_ct2(package: Path, lines: Sequence[str], beam: int, device: str = "cpu") -> list[str]:
    """The package translated by CTranslate2 alone: SentencePiece pieces in, every line as one
    row, CTranslate2's own batching and defaults, output tokens joined with `▁` as spaces."""
    import ctranslate2
    import sentencepiece

    root = _unpacked(package)
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    translator = ctranslate2.Translator(str(root / "model"), device=device, compute_type="int8",
                                        intra_threads=threads if device == "cpu" else 0)
    results = translator.translate_batch(pieces.encode(list(lines), out_type=str), beam_size=beam)
    return ["".join(r.hypotheses[0]).replace("▁", " ").strip() for r in results]


def bare_apertium(mode: str, lines: Sequence[str]) -> list[str]:
    """Apertium alone, one process per line (so no line can run into the next), unknown-word marks off."""
    return [subprocess.run(["apertium", "-u", mode], input=line, capture_output=True, text=True, check=True).stdout.strip()
            for line in lines]


def apertium_modes() -> set[str]:
    if shutil.which("apertium") is None:
        return set()
    return set(subprocess.run(["apertium", "-l"], capture_output=True, text=True, check=False).stdout.split())


def _unpacked(package: Path) -> Path:
    if package.is_dir():
        return package
    from multitrans.engines.argos import read_package, unpack

    return read_package(unpack(package, Path(tempfile.gettempdir()) / "multitrans-quality")).path


def through_multitrans(lines: Sequence[str], source: str, targets: Sequence[str], extra: Sequence[str] = ()) -> tuple[list[dict[str, Any]], float]:
    """`multitrans translate` on the lines as one text document, one paragraph each; returns the
    aligned records (one per line, in order) and the seconds the command took."""
    with tempfile.TemporaryDirectory() as work:
        document = Path(work) / "ntrex.txt"
        document.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        command = [str(ROOT / ".venv" / "bin" / "multitrans"), "translate", str(document), "--to", ",".join(targets),
                   "--from", source, "--out", str(Path(work) / "out"), "--offline", *extra]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode not in (0, 1):
            sys.exit(f"quality: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        records = [json.loads(line) for line in (Path(work) / "out" / "aligned" / "ntrex.txt.jsonl").read_text(encoding="utf-8").splitlines()]
    if len(records) != len(lines):
        sys.exit(f"quality: {len(lines)} lines came back as {len(records)} blocks")
    return records, seconds


def qa_summary(records: Sequence[dict[str, Any]], target: str, known: str) -> dict[str, Any]:
    """Flag rates on this output, and how many blocks were read as another language than `known`."""
    flags = Counter(flag["code"] for r in records for flag in r["translations"][target]["flags"])
    blocks = len(records)
    misread = sum(1 for r in records if r["source"]["lang"] != known)
    return {"flags": {code: round(n / blocks, 4) for code, n in sorted(flags.items())},
            "flagged_blocks": round(sum(1 for r in records if r["translations"][target]["flags"]) / blocks, 4),
            "headings": round(sum(1 for r in records if r["kind"] == "heading") / blocks, 4),
            "misread_language": round(misread / blocks, 4)}


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(system: str, pair: str, hypotheses: Sequence[str], references: Sequence[str], seconds: float | None,
            qa: dict[str, Any] | None = None) -> None:
        rows.append({"system": system, "pair": pair, "lines": len(references), **score(hypotheses, references),
                     "seconds": None if seconds is None else round(seconds, 1), **({"qa": qa} if qa else {})})
        print(f"  {system} {pair}: chrF {rows[-1]['chrf']}", file=sys.stderr)

    if args.pivot_only:
        measure_pivots(args, add)
        return rows
    bokmal = read_lines(args.data / "nob.txt", args.lines)
    if shutil.which("apertium") is None:
        print("quality: Apertium is not installed (scripts/setup.sh installs it); nb→nn/da/sv left out", file=sys.stderr)
        targets: dict[str, str] = {}
    else:
        targets = APERTIUM_TARGETS
        records, seconds = through_multitrans(bokmal, "nb", list(APERTIUM_TARGETS))
    for target, file in targets.items():
        references = read_lines(args.data / f"{file}.txt", args.lines)
        output = [r["translations"][target]["text"] for r in records]
        add("multitrans apertium", f"nb→{target}", output, references, seconds / len(APERTIUM_TARGETS),
            qa_summary(records, target, "nb"))
        add("copy the source", f"nb→{target}", bokmal, references, None)

    if not args.model.exists():
        print(f"quality: no zh→en model at {args.model} (scripts/setup.sh fetches it); zh→en left out", file=sys.stderr)
        return rows
    chinese = read_lines(args.data / "zho-CN.txt", args.zh_lines)
    english = read_lines(args.data / "eng.txt", args.zh_lines)
    with tempfile.TemporaryDirectory() as work:
        registry = Path(work) / "models.yaml"
        registry.write_text(json.dumps({"models": {"opus-mt-zh-en": {"engine": "argos", "model": str(args.model)}},
                                        "routes": [{"from": "zh", "to": "en", "use": ["opus-mt-zh-en"]}]}), encoding="utf-8")
        for beam in (1, 4):
            records, seconds = through_multitrans(chinese, "zh", ["en"], ["--models", str(registry), "--beam", str(beam),
                                                                         "--device", args.device])
            add(f"multitrans argos, beam {beam}", "zh→en", [r["translations"]["en"]["text"] for r in records], english,
                seconds, qa_summary(records, "en", "zh"))
    for beam in (1, 4):
        start = time.perf_counter()
        output = bare_ct2(args.model, chinese, beam, args.device)
        add(f"bare CTranslate2, beam {beam}", "zh→en", output, english, time.perf_counter() - start)
    add("copy the source", "zh→en", chinese, english, None)
    measure_pivots(args, add)
    return rows


def measure_pivots(args: argparse.Namespace, add: Any) -> None:
    """zh→es/ca through multitrans's pivot route and as the bare chain, on lines --pivot-start onwards."""
    missing = [mode for _, mode in PIVOT_TARGETS.values() if mode not in apertium_modes()]
    if missing or not args.model.exists():
        why = f"Apertium {', '.join(missing)} is not installed" if missing else f"no zh→en model at {args.model}"
        print(f"quality: {why} (scripts/setup.sh installs it); zh→es/ca left out", file=sys.stderr)
        return
    first = args.pivot_start - 1
    chinese = read_lines(args.data / "zho-CN.txt", first + args.zh_lines)[first:]
    references = {tgt: read_lines(args.data / f"{file}.txt", first + args.zh_lines)[first:]
                  for tgt, (file, _) in PIVOT_TARGETS.items()}
    span = f" (lines {args.pivot_start}–{first + len(chinese)})" if first else ""
    with tempfile.TemporaryDirectory() as work:
        registry = Path(work) / "models.yaml"
        targets = list(PIVOT_TARGETS)
        registry.write_text(json.dumps({
            "models": {"opus-mt-zh-en": {"engine": "argos", "model": str(args.model)}, "apertium": {"engine": "apertium"}},
            "routes": [{"from": "zh", "to": "en", "use": ["opus-mt-zh-en"]}, {"from": "en", "to": targets, "use": ["apertium"]},
                       {"from": "zh", "to": targets, "via": "en"}]}), encoding="utf-8")
        records, seconds = through_multitrans(chinese, "zh", targets, ["--models", str(registry), "--beam", "4",
                                                                       "--device", args.device])
    for tgt in targets:
        engines = {r["translations"][tgt]["engine"] for r in records if r["source"]["lang"] == "zh"}
        if engines != {"pivot"}:  # blocks read as another language (see "misread language") take that one's route
            sys.exit(f"quality: zh→{tgt} was served by {engines}, not the pivot route")
        add(f"multitrans argos → apertium (via en), beam 4{span}", f"zh→{tgt}",
            [r["translations"][tgt]["text"] for r in records], references[tgt], seconds / len(targets),
            qa_summary(records, tgt, "zh"))
    start = time.perf_counter()
    english = bare_ct2(args.model, chinese, 4, args.device)
    english_seconds = time.perf_counter() - start
    for tgt, (_, mode) in PIVOT_TARGETS.items():
        start = time.perf_counter()
        output = bare_apertium(mode, english)
        add(f"bare CTranslate2 beam 4 → bare Apertium{span}", f"zh→{tgt}", output, references[tgt],
            english_seconds / len(PIVOT_TARGETS) + time.perf_counter() - start)


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| system | pair | lines | BLEU | chrF | flagged blocks | flags | headings | misread language | seconds |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for row in rows:
        qa = row.get("qa")
        flags = ", ".join(f"{code} {rate:.1%}" for code, rate in qa["flags"].items()) if qa else ""
        cells = [row["system"], row["pair"], str(row["lines"]), f"{row['bleu']:.1f}", f"{row['chrf']:.1f}",
                 f"{qa['flagged_blocks']:.1%}" if qa else "", flags or ("none" if qa else ""),
                 f"{qa['headings']:.1%}" if qa else "", f"{qa['misread_language']:.1%}" if qa else "",
                 "" if row["seconds"] is None else f"{row['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="NTREX folder (default: ../shared/data/ntrex-dev)")
    parser.add_argument("--lines", type=int, default=500, help="Bokmål lines to score (default 500)")
    parser.add_argument("--zh-lines", type=int, default=200, help="Chinese lines to score (default 200)")
    parser.add_argument("--pivot-start", type=int, default=1, help="first Chinese line of the zh→es/ca rows (default 1)")
    parser.add_argument("--pivot-only", action="store_true", help="only the zh→es/ca rows")
    parser.add_argument("--model", type=Path, default=MODEL, help="the zh→en Argos package (default: the test cache)")
    parser.add_argument("--device", default="cpu", help="for the neural systems: cpu, cuda or auto")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    rows = measure(args)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
