"""The `multitrans detect` and `multitrans languages` commands: which language a document is in,
and which languages can be translated into (and by which models)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import DocumentFormat, Json, ModelsFile, Verbose, handles_errors, short

commands = typer.Typer()


@commands.command(epilog="Example: multitrans detect article.txt --json")
@handles_errors
def detect(
    files: Annotated[list[Path], typer.Argument(help="Articles to examine.")],
    json_out: Json = False,
    fmt: DocumentFormat = None,
    verbose: Verbose = False,
) -> None:
    """Print each document's language with its confidence, and the blocks written in another language."""
    from ..api import detect_document, new_detector, read_document

    detector = new_detector()
    reports = []
    for file in files:
        document = read_document(file, fmt)
        found = detect_document(document, detector)
        others = [
            {"id": b.id, "lang": d.lang, "confidence": round(d.confidence, 3), "text": b.text}
            for b, d in zip(document.blocks, found.blocks)
            if d.lang is not None and d.lang != found.lang
        ]
        reports.append({"file": str(file), "lang": found.lang, "confidence": round(found.confidence, 3), "other_blocks": others})
    if json_out:
        typer.echo(json.dumps(reports, ensure_ascii=False, indent=2))
        return
    for report in reports:
        typer.echo(f"{report['file']}: {report['lang']} (confidence {report['confidence']:.2f})")
        for block in report["other_blocks"]:
            typer.echo(f"  block {block['id']}: {block['lang']} ({block['confidence']:.2f}) {short(block['text'])}")


@commands.command(epilog="Example: multitrans languages --from nb --json")
@handles_errors
def languages(
    source: Annotated[str, typer.Option("--from", "-f", help="Source language the routes start from.")] = "nb",
    models: ModelsFile = None,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """List every target language with its name and the models that would translate into it."""
    from ..config.registry import load_registry
    from ..languages import all_codes, name, normalize

    registry = load_registry(models)
    src = normalize(source)
    rows = [{"code": c, "name": name(c), "route": registry.route_names(src, c)} for c in all_codes() if c != src]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['code']:<9} {row['name']:<32} {' → '.join(row['route']) or '(no route)'}")
