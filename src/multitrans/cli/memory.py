"""The `multitrans memory` commands: inspect, export and prune the translation memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UserError, shorten
from .common import Json, Memory, Verbose, handles_errors

group = typer.Typer(no_args_is_help=True, help="Inspect, export and prune the translation memory.")

MemoryOut = Annotated[Path, typer.Option("--out", "-o", help="Output directory whose memory to use.")]


def _memory_path(memory: Path | None, out: Path) -> Path:
    from ..archive.job import default_memory_path

    path = memory or default_memory_path(out)
    if not path.exists():
        raise UserError(f"no translation memory at {path}; a translate or batch run with --out {out} creates it")
    return path


@group.command("stats", epilog="Example: multitrans memory stats --out translations/ --json")
@handles_errors
def memory_stats(memory: Memory = None, out: MemoryOut = Path("translations"), json_out: Json = False,
                 verbose: Verbose = False) -> None:
    """Entries per engine, model and language pair, and the memory's size."""
    from ..memory.store import TranslationMemory

    with TranslationMemory(_memory_path(memory, out), readonly=True) as tm:
        stats = tm.stats()
    if json_out:
        typer.echo(json.dumps(stats, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{stats['path']}: {stats['entries']} entries, {stats['bytes'] / 1e6:.1f} MB")
    for g in stats["groups"]:
        typer.echo(f"  {g['src']}→{g['tgt']:<6} {g['entries']:>8}  {g['engine']} {g['model']} "
                   f"{g['revision'] or '-'} {g['runtime']} {g['quantization'] or '-'} "
                   f"{json.dumps(g['decoding'])}  last used {g['last_used']}")


@group.command("export", epilog="Example: multitrans memory export memory.tmx --out translations/")
@handles_errors
def memory_export(
    file: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="tmx (TMX 1.4b, for CAT tools) or jsonl.")] = "tmx",
    source: Annotated[str | None, typer.Option("--from", help="Only this source language.")] = None,
    target: Annotated[str | None, typer.Option("--to", help="Only this target language.")] = None,
    memory: Memory = None,
    out: MemoryOut = Path("translations"),
    verbose: Verbose = False,
) -> None:
    """Write the memory as TMX 1.4b (or JSON lines), one unit per remembered sentence."""
    from ..interchange.tmx import export_file, write_tmx
    from ..languages import normalize
    from ..memory.store import TranslationMemory

    if fmt not in ("tmx", "jsonl"):
        raise UserError(f"unknown --format '{shorten(fmt)}'; use tmx or jsonl")
    src = normalize(source) if source else None
    tgt = normalize(target) if target else None
    with TranslationMemory(_memory_path(memory, out), readonly=True) as tm:
        entries = tm.entries(src=src, tgt=tgt)
        if fmt == "tmx":
            count = export_file(entries, file, write_tmx, srclang=src or "*all*")
        else:
            count = export_file(entries, file, _write_jsonl)
    typer.echo(f"wrote {count} entries to {file}", err=True)


def _write_jsonl(entries: Any, handle: Any) -> int:
    count = 0
    for entry in entries:
        handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


@group.command("prune", epilog="Example: multitrans memory prune --out translations/ --unused-days 90")
@handles_errors
def memory_prune(
    unused_days: Annotated[float | None, typer.Option(min=0, help="Delete entries no run has used for this many days.")] = None,
    model: Annotated[str | None, typer.Option(help="Delete the entries of this model id (e.g. after replacing it).")] = None,
    engine: Annotated[str | None, typer.Option(help="Delete the entries of this engine (apertium, marian, nllb...).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
    memory: Memory = None,
    out: MemoryOut = Path("translations"),
    verbose: Verbose = False,
) -> None:
    """Delete old or obsolete entries (all given conditions must hold), then compact the file."""
    from ..memory.store import TranslationMemory

    if unused_days is None and model is None and engine is None:
        raise UserError("say what to prune: --unused-days N, --model ID and/or --engine NAME")
    with TranslationMemory(_memory_path(memory, out)) as tm:
        count = tm.prune(unused_days=unused_days, model=model, engine=engine, dry_run=dry_run)
    typer.echo(f"{'would delete' if dry_run else 'deleted'} {count} entries", err=True)
