"""The `multitrans batch` and `multitrans memory` commands (registered on the app in cli.py).

Like the rest of the CLI this is a thin layer: options in, multitrans.archive.job and
multitrans.memory.store do the work, progress and tables out.  Progress goes to stderr (a
rich bar on a terminal, a plain line every few seconds otherwise, so CI logs stay
short); results (the summary table, `--check`'s list, JSON) go to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Json, ModelsFile, Verbose, app, handles_errors

memory_app = typer.Typer(no_args_is_help=True, help="Inspect, export and prune the translation memory.")
app.add_typer(memory_app, name="memory")

MemoryFile = Annotated[Path | None, typer.Option(
    "--memory", help="Translation memory file (SQLite); default: OUT/.multitrans/memory.sqlite.")]
NoMemory = Annotated[bool, typer.Option("--no-memory", help="Neither look up nor remember translations.")]


@app.command(epilog="Example: multitrans batch archive/ --to nn,da,sv --out translations/")
@handles_errors
def batch(
    archive: Annotated[Path, typer.Argument(help="Folder of articles; sub-folders are mirrored under each language.")],
    to: Annotated[str, typer.Option("--to", "-t", help="Target languages, comma-separated (e.g. nn,da,sv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("translations"),
    glob: Annotated[list[str] | None, typer.Option(
        "--glob", help="Which files to translate (repeatable); default: *.txt and *.md at any depth.")] = None,
    layout: Annotated[str, typer.Option(help="Output path template: {lang}, {name}, {stem}, {ext}, {path}.")] = "{lang}/{path}",
    check: Annotated[bool, typer.Option(
        "--check", help="Translate nothing; list stale or missing outputs and exit 1 if there are any.")] = False,
    executor: Annotated[str, typer.Option(help="local (processes on this machine) or ray (a Ray cluster).")] = "local",
    address: Annotated[str | None, typer.Option(
        help="Ray cluster to use (HOST:PORT or auto); default: start a local Ray instance.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Workers (per node with Ray); default: one per GPU, else one per core up to 4.")] = None,
    memory: MemoryFile = None,
    no_memory: NoMemory = False,
    source: Annotated[str | None, typer.Option("--from", "-f", help="Source language; detected when omitted.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="text or markdown; by default from each file's extension.")] = None,
    models: ModelsFile = None,
    offline: Annotated[bool, typer.Option(help="Use only models already on this machine; never touch the network.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    beam: Annotated[int, typer.Option(min=1, help="Beam size (1 = greedy).")] = 1,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Translate every article of an archive; reruns redo only what is stale, and a killed job resumes."""
    from ..archive.job import DEFAULT_GLOBS, check_batch, run_batch
    from ..engines.base import EngineOptions

    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown --device '{device}'; use auto, cpu or cuda")
    if offline:
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"
    options = EngineOptions(device=device, beam=beam, offline=offline)
    globs = tuple(glob) if glob else DEFAULT_GLOBS
    common: dict[str, Any] = {"layout": layout, "globs": globs, "registry": models, "options": options,
                              "source_lang": source, "fmt": fmt}
    if check:
        result = check_batch(archive, to.split(","), out, **common)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if json_out:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        else:
            for stale in result.stale:
                typer.echo(f"would translate {stale.output} ({stale.reason})")
            documents = len(result.stale_documents)
            if result.stale:
                typer.echo(f"{len(result.stale)} of {result.outputs} outputs ({documents} of {result.documents} "
                           "documents) are stale or missing", err=True)
            else:
                typer.echo(f"all {result.outputs} outputs of {result.documents} documents are current", err=True)
        raise typer.Exit(EXIT_PROBLEMS if result.stale else EXIT_OK)

    display = _Progress(sys.stderr.isatty())
    try:
        summary = run_batch(archive, to.split(","), out, memory=memory, use_memory=not no_memory, executor=executor,
                            address=address, workers=workers, on_progress=display,
                            on_problem=lambda line: display.echo(f"error: {line}"), **common)
    finally:
        display.stop()
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for problem in summary.problems:
        typer.echo(f"warning: {problem['problem']} ({problem['documents']} documents)", err=True)
    if json_out:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_summary(summary)
    raise typer.Exit(EXIT_PROBLEMS if summary.failed else EXIT_OK)


class _Progress:
    """Batch progress on stderr: a rich bar on a terminal, else a plain line at most every PLAIN_EVERY seconds."""

    PLAIN_EVERY = 5.0

    def __init__(self, rich: bool) -> None:
        self.rich = rich
        self.bar: Any = None
        self.task: Any = None
        self.last_plain = 0.0

    def __call__(self, p: Any) -> None:
        eta = _duration(p.eta) if p.eta is not None else "?"
        detail = (f"{p.translated} segments translated, {p.reused} reused, "
                  f"{p.tokens_per_second:.0f} tokens/s, ETA {eta}")
        if self.rich:
            if self.bar is None:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

                self.bar = Progress(TextColumn("documents"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
                self.bar.start()
                self.task = self.bar.add_task(detail, total=p.documents_total)
            self.bar.update(self.task, completed=p.documents_done, total=p.documents_total, description=detail)
            return
        now = time.monotonic()
        if now - self.last_plain >= self.PLAIN_EVERY or p.documents_done == p.documents_total:
            self.last_plain = now
            typer.echo(f"batch: {p.documents_done}/{p.documents_total} documents, {detail}", err=True)

    def echo(self, line: str) -> None:
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            typer.echo(line, err=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


def _print_summary(summary: Any) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="batch summary", box=box.SIMPLE, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("documents", f"{summary.documents} found: {summary.done} done, {summary.skipped} skipped (current), "
                               f"{len(summary.failed)} failed; {summary.with_problems} with untranslated blocks")
    table.add_row("segments", f"{summary.segments_translated} translated, {summary.segments_reused} reused from memory")
    table.add_row("files", f"{summary.files_written} written, {summary.files_unchanged} unchanged")
    table.add_row("time", f"{summary.seconds:.1f} s ({summary.workers} {summary.executor} worker"
                          f"{'s' if summary.workers != 1 else ''})")
    Console(soft_wrap=True).print(table)
    for failure in summary.failed:
        typer.echo(f"failed: {failure['document']}: {failure['error']}", err=True)


def _memory_path(memory: Path | None, out: Path) -> Path:
    from ..archive.job import default_memory_path

    path = memory or default_memory_path(out)
    if not path.exists():
        raise ValueError(f"no translation memory at {path}; a translate or batch run with --out {out} creates it")
    return path


MemoryOut = Annotated[Path, typer.Option("--out", "-o", help="Output directory whose memory to use.")]


@memory_app.command("stats", epilog="Example: multitrans memory stats --out translations/ --json")
@handles_errors
def memory_stats(memory: MemoryFile = None, out: MemoryOut = Path("translations"), json_out: Json = False,
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


@memory_app.command("export", epilog="Example: multitrans memory export memory.tmx --out translations/")
@handles_errors
def memory_export(
    file: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="tmx (TMX 1.4b, for CAT tools) or jsonl.")] = "tmx",
    source: Annotated[str | None, typer.Option("--from", help="Only this source language.")] = None,
    target: Annotated[str | None, typer.Option("--to", help="Only this target language.")] = None,
    memory: MemoryFile = None,
    out: MemoryOut = Path("translations"),
    verbose: Verbose = False,
) -> None:
    """Write the memory as TMX 1.4b (or JSON lines), one unit per remembered sentence."""
    from ..languages import normalize
    from ..memory.store import TranslationMemory
    from ..interchange.tmx import export_file, write_tmx

    if fmt not in ("tmx", "jsonl"):
        raise ValueError(f"unknown --format '{fmt}'; use tmx or jsonl")
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


@memory_app.command("prune", epilog="Example: multitrans memory prune --out translations/ --unused-days 90")
@handles_errors
def memory_prune(
    unused_days: Annotated[float | None, typer.Option(min=0, help="Delete entries no run has used for this many days.")] = None,
    model: Annotated[str | None, typer.Option(help="Delete the entries of this model id (e.g. after replacing it).")] = None,
    engine: Annotated[str | None, typer.Option(help="Delete the entries of this engine (apertium, marian, nllb...).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
    memory: MemoryFile = None,
    out: MemoryOut = Path("translations"),
    verbose: Verbose = False,
) -> None:
    """Delete old or obsolete entries (all given conditions must hold), then compact the file."""
    from ..memory.store import TranslationMemory

    if unused_days is None and model is None and engine is None:
        typer.echo("error: say what to prune: --unused-days N, --model ID and/or --engine NAME", err=True)
        raise typer.Exit(EXIT_USAGE)
    with TranslationMemory(_memory_path(memory, out)) as tm:
        count = tm.prune(unused_days=unused_days, model=model, engine=engine, dry_run=dry_run)
    typer.echo(f"{'would delete' if dry_run else 'deleted'} {count} entries", err=True)
