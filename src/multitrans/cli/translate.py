"""The `multitrans translate` command: articles in, one file per language out, and the quality report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UserError
from .common import (
    AllowPickle,
    Beam,
    Device,
    DocumentFormat,
    Layout,
    ModelsFile,
    NoMemory,
    Offline,
    Out,
    SentenceProgress,
    Source,
    To,
    Verbose,
    engine_setup,
    finish,
    handles_errors,
    memory_file,
    short,
)

REPORT_ROWS = 25  # flag rows printed on the console; --report FILE.json holds them all

commands = typer.Typer()


@commands.command(epilog="Example: multitrans translate article.txt --to nn,da,sv --out translations/")
@handles_errors
def translate(
    files: Annotated[list[str], typer.Argument(help="Articles (.txt, .md, .html); '-' reads standard input and writes standard output.")],
    to: To,
    out: Out = Path("translations"),
    source: Source = None,
    layout: Layout = "{lang}/{name}",
    fmt: DocumentFormat = None,
    models: ModelsFile = None,
    offline: Offline = False,
    device: Device = "auto",
    beam: Beam = None,
    memory: Annotated[Path | None, typer.Option("--memory", help="Translation memory file; default: OUT/.multitrans/memory.sqlite (none when writing to stdout).")] = None,
    no_memory: NoMemory = False,
    glossary: Annotated[Path | None, typer.Option("--glossary", help="YAML with `keep:` (names never translated) and `terms:` (fixed translations per language).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the quality report (every flag) to this JSON file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with 1 when any quality flag remains.")] = False,
    allow_pickle: AllowPickle = False,
    max_size: Annotated[str, typer.Option("--max-size", help="Refuse input files larger than this (e.g. 10MB).")] = "10MB",
    encoding: Annotated[str | None, typer.Option("--encoding", help="Read input in this encoding instead of UTF-8 (e.g. windows-1252).")] = None,
    verbose: Verbose = False,
) -> None:
    """Translate articles into one or more languages: one file per language plus aligned/<name>.jsonl."""
    from ..api import parse_document, read_document, translate_documents, write_result
    from ..config.glossary import load_glossary
    from ..inputs import decode, parse_size, read_limited
    from ..languages import parse_list
    from ..memory.session import memory_session
    from ..output import plan_outputs
    from ..pipeline.report import report as quality_report

    targets = parse_list(to)
    if report is not None:
        _check_report(report)
    registry, options = engine_setup(models, offline, allow_pickle, device, beam)
    terms = registry.glossary.merge(load_glossary(glossary)) if glossary else None
    limit = parse_size(max_size)
    stdin = files == ["-"]
    if stdin:
        if len(targets) != 1:
            raise UserError("reading standard input ('-') writes one translation to standard output; give exactly one --to language")
        text = decode(read_limited(sys.stdin.buffer.read, limit + 1), "standard input", encoding=encoding, max_bytes=limit)
        documents = [parse_document(text, "stdin.md" if fmt == "markdown" else "stdin.txt", fmt)]
    else:
        documents = [read_document(f, fmt, encoding=encoding, max_bytes=limit) for f in files]
        # Every output path checked and every collision found before a model loads or a file is written.
        plan_outputs(out, layout, [(f, d.name) for f, d in zip(files, documents)], targets)
    # Standard output keeps no memory unless one is named: there is no --out to keep it under.
    kept = None if stdin and memory is None else memory_file(memory, no_memory, out)
    with SentenceProgress(not stdin) as on_progress, memory_session(kept) as session:
        results = translate_documents(documents, targets, registry=registry, options=options,
                                      source_lang=source, on_progress=on_progress, memory=session,
                                      glossary=terms)
    problems = [p for r in results for p in r.problems]
    if stdin:
        sys.stdout.write(results[0].text(targets[0]))
    else:
        for result in results:
            paths = write_result(result, out, layout)
            typer.echo(f"{result.document.name} ({result.lang}, confidence {result.confidence:.2f}): "
                       f"wrote {len(paths) - 1} translations and {paths[-1]}", err=True)
    quality = quality_report(results)
    _print_quality(quality)
    if report is not None:
        from ..output import write_atomic_all

        write_atomic_all([(report, json.dumps(quality, ensure_ascii=False, indent=2) + "\n")])
    finish(problems, (n for r in results for n in r.notes), flagged=strict and bool(quality["flags"]))


def _check_report(report: Path) -> None:
    """Refuse a --report path that cannot be written before any translation is: it is written
    last, and a failure then would come after the translations were published."""
    if report.is_dir():
        raise UserError(f"--report {report} is a directory; name a file in it, e.g. --report {report / 'report.json'}")
    folder = report.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"--report {report}: {folder} is not a directory; name a file in a folder")


def _print_quality(quality: dict[str, Any]) -> None:
    """The quality flags as a table on stderr: one row per flagged block and language, the first
    REPORT_ROWS of them, then the totals."""
    rows = quality["rows"]
    if not rows:
        return
    from rich.console import Console
    from rich.table import Table

    documents = list(dict.fromkeys(row["document"] for row in rows))
    title = "Quality flags" + (f" in {documents[0]}" if len(documents) == 1 else "")
    table = Table(title=title, title_justify="left", show_lines=False)
    columns = ("document", "block", "lang", "flag", "attempt", "detail")[1 if len(documents) == 1 else 0 :]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows[:REPORT_ROWS]:
        cells = [row["document"], str(row["block"]), row["lang"], row["code"], row["attempt"] or "-", short(row["detail"], 90)]
        table.add_row(*cells[1 if len(documents) == 1 else 0 :])
    console = Console(stderr=True, width=max(100, Console(stderr=True).width))
    console.print(table)
    more = f" ({len(rows) - REPORT_ROWS} more rows in --report FILE.json)" if len(rows) > REPORT_ROWS else ""
    totals = ", ".join(f"{code} {n}" for code, n in quality["flags"].items())
    console.print(f"flags: {totals}{more}", highlight=False, soft_wrap=True)
