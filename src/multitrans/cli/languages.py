"""The `multitrans detect` and `multitrans languages` commands: which language a document is in,
and which languages can be translated into (and by which models)."""

from __future__ import annotations

import json
from dataclasses import asdict
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
    """Print each document's language with its confidence, and the blocks written in another language.

    Every language the detector knows is reported, also one no route translates from
    (Latin).  A file that cannot be read or decided gets its own line (or record) with the
    error, and the others still print; the exit code is 1 when any file was not decided."""
    from ..api import detect_file, new_detector
    from ..formats import format_for

    if fmt is not None:
        format_for("", fmt)  # an unknown --format is bad usage (exit 2), not a per-file error
    detector = new_detector()
    reports = [detect_file(file, detector, fmt) for file in files]
    if json_out:
        typer.echo(json.dumps([asdict(report) for report in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            if report.error is not None:
                typer.echo(f"{report.file}: error: {report.error}")
                continue
            note = f" — {report.note}" if report.note else ""
            typer.echo(f"{report.file}: {report.language} (confidence {report.confidence:.2f}){note}")
            for block in report.other_blocks:
                typer.echo(f"  block {block.id}: {block.language} ({block.confidence:.2f}) {short(block.text)}")
    if any(report.error is not None for report in reports):
        raise typer.Exit(1)


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
