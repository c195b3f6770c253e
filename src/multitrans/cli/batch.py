"""The `multitrans batch` command: translate a whole archive, redo only what is stale.

Progress goes to stderr (a rich bar on a terminal, a plain line every few seconds otherwise,
so CI logs stay short); results (the summary table, `--check`'s list, JSON) go to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UserError
from .annotations import annotations, github_line
from .common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    AllowPickle,
    Beam,
    Device,
    Json,
    Layout,
    Memory,
    ModelsFile,
    NoMemory,
    Offline,
    Out,
    Source,
    To,
    Verbose,
    engine_setup,
    handles_errors,
)

commands = typer.Typer()


class CheckFormat(str, Enum):
    """How `--check` lists what is stale: for people, for GitHub Actions, for scripts."""

    text = "text"
    github = "github"
    json = "json"


@commands.command(epilog="Example: multitrans batch archive/ --to nn,da,sv --out translations/",
                  context_settings={"auto_envvar_prefix": "MULTITRANS_BATCH"})
@handles_errors
def batch(
    archive: Annotated[Path, typer.Argument(
        envvar="MULTITRANS_BATCH_ARCHIVE",
        help="Folder of articles; sub-folders are mirrored under each language.")],
    to: To,
    out: Out = Path("translations"),
    glob: Annotated[list[str] | None, typer.Option(
        "--glob", help="Which files to translate (repeatable); default: *.txt and *.md at any depth.")] = None,
    layout: Layout = "{lang}/{path}",
    check: Annotated[bool, typer.Option(
        "--check", help="Translate nothing; list stale or missing outputs and exit 1 if there are any.")] = False,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Remove the outputs of deleted sources (only files this job wrote and nobody changed since).")] = False,
    output_format: Annotated[CheckFormat, typer.Option(
        "--output-format", help="How --check lists stale outputs: text, github (one GitHub Actions ::warning "
                                "annotation each) or json (as --json).")] = CheckFormat.text,
    executor: Annotated[str, typer.Option(help="local (processes on this machine) or ray (a Ray cluster).")] = "local",
    address: Annotated[str | None, typer.Option(
        help="Ray cluster to use (HOST:PORT or auto); default: start a local Ray instance.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Workers (per node with Ray); default: one per GPU, else one per core up to 4.")] = None,
    memory: Memory = None,
    no_memory: NoMemory = False,
    source: Source = None,
    fmt: Annotated[str | None, typer.Option("--format", help="text or markdown; by default from each file's extension.")] = None,
    models: ModelsFile = None,
    offline: Offline = False,
    device: Device = "auto",
    beam: Beam = None,
    allow_pickle: AllowPickle = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Translate every article of an archive; reruns redo only what is stale, and a killed job resumes."""
    from ..archive.job import DEFAULT_GLOBS, check_batch, printable, run_batch
    from ..languages import parse_list

    if output_format is not CheckFormat.text and not check:
        raise UserError(f"--output-format {output_format.value} lists stale outputs: it goes with --check")
    if prune and check:
        raise UserError("--check changes nothing and --prune removes files: run `batch --prune` without --check")
    targets = parse_list(to)
    registry, options = engine_setup(models, offline, allow_pickle, device, beam)
    globs = tuple(glob) if glob else DEFAULT_GLOBS
    common: dict[str, Any] = {"layout": layout, "globs": globs, "registry": registry, "options": options,
                              "source_lang": source, "fmt": fmt}
    if check:
        result = check_batch(archive, targets, out, **common)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        found = annotations(archive, out, result.stale)
        if json_out or output_format is CheckFormat.json:
            data = result.to_json()
            data["stale"] = [annotation.to_json() for annotation in found]
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            for stale, annotation in zip(result.stale, found):
                if output_format is CheckFormat.github:
                    typer.echo(github_line(annotation))
                else:
                    typer.echo(f"would translate {stale.output} ({stale.reason})")
            for orphan in result.orphaned:
                typer.echo(f"orphaned {printable(orphan.output)} (its source {printable(orphan.source)} is gone)")
            documents = len(result.stale_documents)
            if result.stale:
                typer.echo(f"{len(result.stale)} of {result.outputs} outputs ({documents} of {result.documents} "
                           "documents) are stale or missing", err=True)
            else:
                typer.echo(f"all {result.outputs} outputs of {result.documents} documents are current", err=True)
        raise typer.Exit(EXIT_PROBLEMS if result.stale or result.orphaned else EXIT_OK)

    display = _Progress(sys.stderr.isatty())
    try:
        summary = run_batch(archive, targets, out, memory=memory, use_memory=not no_memory, executor=executor,
                            address=address, workers=workers, on_progress=display, prune=prune,
                            on_problem=lambda line: display.echo(f"error: {line}"), **common)
    except KeyboardInterrupt:
        display.stop()
        typer.echo("interrupted: every document finished so far is kept; run the same command again to resume",
                   err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        display.stop()
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for note in summary.notes:
        typer.echo(f"note: {note}", err=True)
    for problem in summary.problems:
        typer.echo(f"warning: {problem['problem']} ({problem['documents']} documents)", err=True)
    for orphan in summary.orphaned:
        typer.echo(f"warning: orphaned {printable(orphan['output'])} (its source {printable(orphan['source'])} is gone; "
                   "--prune removes it)" if not prune else
                   f"warning: orphaned {printable(orphan['output'])} kept: it changed since multitrans wrote it", err=True)
    for pruned in summary.pruned:
        typer.echo(f"removed {printable(pruned['output'])} (its source {printable(pruned['source'])} is gone)", err=True)
    if json_out:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_summary(summary)
    # Like `translate`: blocks left in the source language are a problem worth a non-zero exit.
    raise typer.Exit(EXIT_PROBLEMS if summary.failed or summary.with_problems else EXIT_OK)


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
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


def _print_summary(summary: Any) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from ..archive.job import printable

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
        typer.echo(f"failed: {printable(failure['document'])}: {failure['error']}", err=True)
