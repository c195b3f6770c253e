"""The `multitrans models` commands: list, fetch and convert the models in the registry."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    AllowPickle,
    Json,
    ModelsFile,
    Offline,
    Verbose,
    engine_setup,
    handles_errors,
)

group = typer.Typer(no_args_is_help=True, help="List, fetch and convert the models in the registry.")


@group.command("list", epilog="Example: multitrans models list --json")
@handles_errors
def models_list(models: ModelsFile = None, json_out: Json = False, verbose: Verbose = False) -> None:
    """List the configured models and whether each is present on this machine, then the pairs
    pivot routes serve through a bridge language (with --json, those as rows with "via")."""
    from ..config.catalog import bridges, model_status
    from ..config.registry import load_registry

    registry = load_registry(models)
    rows = [model_status(spec) for spec in registry.models.values()]
    bridged = bridges(registry)
    if json_out:
        typer.echo(json.dumps(rows + bridged, ensure_ascii=False, indent=2))
        return
    for row in rows:
        mark = "present" if row["present"] else "missing"
        typer.echo(f"{row['name']:<26} {row['engine']:<9} {mark:<8} {row['model'] or ''} {row['revision'] or ''}".rstrip())
    if bridged:
        typer.echo("through a bridge language:")
    for row in bridged:
        mark = "present" if row["present"] else "missing"
        pair = f"{row['from']}→{row['to']} via {row['via']}"
        typer.echo(f"{pair:<26} {'pivot':<9} {mark:<8} {', '.join(row['first'])} → {', '.join(row['second'])}")


@group.command("pull", epilog="Example: multitrans models pull --to en,de,fr --from nb,en")
@handles_errors
def models_pull(
    to: Annotated[str, typer.Option("--to", "-t", help="Target languages whose routes to fetch.")],
    source: Annotated[str, typer.Option("--from", "-f", help="Source languages (comma-separated).")] = "nb,en",
    models: ModelsFile = None,
    verbose: Verbose = False,
) -> None:
    """Download what the routes to these languages need into the Hugging Face cache, for later --offline runs."""
    from ..config.catalog import pull_routes
    from ..config.registry import load_registry
    from ..languages import parse_list

    failures = pull_routes(load_registry(models), parse_list(source), parse_list(to), lambda line: typer.echo(line, err=True))
    raise typer.Exit(EXIT_PROBLEMS if failures else EXIT_OK)


@group.command("convert", epilog="Example: multitrans models convert opus-mt-en-ROMANCE --quantization int8")
@handles_errors
def models_convert(
    model: Annotated[str, typer.Argument(help="A model named in the registry, a hub id, or a local model directory.")],
    quantization: Annotated[str, typer.Option(help="int8 (CPU), int8_float16 or float16 (CUDA), float32.")] = "int8",
    revision: Annotated[str | None, typer.Option(help="Hub revision to convert (default: the registry's, else main).")] = None,
    models: ModelsFile = None,
    offline: Offline = False,
    allow_pickle: AllowPickle = False,
    force: Annotated[bool, typer.Option(help="Convert again even if this revision was converted already.")] = False,
    verbose: Verbose = False,
) -> None:
    """Convert a Marian or NLLB model to CTranslate2; its routes then run on CTranslate2 (runtime: auto)."""
    from ..engines.convert import check_quantization, convert_model, spec_for

    check_quantization(quantization)
    registry, options = engine_setup(models, offline, allow_pickle)
    spec = spec_for(model, registry, revision)
    path = convert_model(spec, quantization, options=options, force=force, say=lambda line: typer.echo(line, err=True))
    typer.echo(str(path))
