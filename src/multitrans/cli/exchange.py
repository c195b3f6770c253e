"""The `multitrans export`, `import` and `review` commands: the work of human translators.

Options and messages here; multitrans.interchange does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UserError, shorten
from .common import (
    AllowPickle,
    Beam,
    Device,
    InputFormat,
    Layout,
    Memory,
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
)

commands = typer.Typer()


@commands.command(epilog="Example: multitrans export article.html --to nn,da,sv --format xliff --out xliff/")
@handles_errors
def export(
    files: Annotated[list[Path], typer.Argument(help="Articles (.txt, .md, .html).")],
    to: To,
    fmt: Annotated[str, typer.Option("--format", help="xliff (XLIFF 2.1, one file per language) or tmx (TMX 1.4b, one file).")] = "xliff",
    out: Out = Path("translations"),
    source: Source = None,
    input_format: InputFormat = None,
    models: ModelsFile = None,
    offline: Offline = False,
    device: Device = "auto",
    beam: Beam = None,
    allow_pickle: AllowPickle = False,
    memory: Memory = None,
    no_memory: NoMemory = False,
    verbose: Verbose = False,
) -> None:
    """Translate and write the result for translators: OUT/<name>.<lang>.xlf per language, or OUT/<name>.tmx.

    The memory is read (earlier imported fixes are reused) but not written."""
    from ..api import read_document
    from ..interchange.exchange import file_timestamp, translate_for_export, write_tmx_file, write_xliff
    from ..languages import parse_list

    if fmt not in ("xliff", "tmx"):
        raise UserError(f"unknown --format '{shorten(fmt)}'; use xliff or tmx")
    targets = parse_list(to)
    registry, options = engine_setup(models, offline, allow_pickle, device, beam)
    documents = [read_document(f, input_format) for f in files]
    with SentenceProgress(True) as on_progress:
        results, identities = translate_for_export(documents, targets, memory_file(memory, no_memory, out),
                                                   source_lang=source, on_progress=on_progress,
                                                   registry=registry, options=options)
    for file, result in zip(files, results):
        if fmt == "xliff":
            paths = [str(p) for p in write_xliff(result, out, identities)]
        else:
            paths = [str(write_tmx_file(result, out, identities, file_timestamp(file)))]
        typer.echo(f"{result.document.name} ({result.lang}): wrote {', '.join(paths)}", err=True)
    finish((p for r in results for p in r.problems), (n for r in results for n in r.notes))


@commands.command("import", epilog="Example: multitrans import xliff/article.html.nn.xlf --out translations/")
@handles_errors
def import_(
    files: Annotated[list[Path], typer.Argument(help="XLIFF files written by `multitrans export`, edited or not.")],
    out: Out = Path("translations"),
    layout: Layout = "{lang}/{name}",
    memory: Memory = None,
    no_memory: NoMemory = False,
    verbose: Verbose = False,
) -> None:
    """Rebuild translated documents from XLIFF files and keep the translators' edits in the memory."""
    from ..interchange.exchange import import_file

    problems: list[str] = []
    for file in files:
        report = import_file(file, out, layout, memory_file(memory, no_memory, out))
        typer.echo(f"{file}: wrote {report.path}; {report.edits} edited segment(s), "
                   f"{report.remembered} kept in the translation memory", err=True)
        problems += report.problems
    finish(problems)


@commands.command(epilog="Example: multitrans review article.html --to nn,da,sv,ar --out review.html")
@handles_errors
def review(
    file: Annotated[Path, typer.Argument(help="An article to translate, or an aligned/<name>.jsonl a translate run wrote.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The review page to write.")] = Path("review.html"),
    to: Annotated[str | None, typer.Option("--to", "-t", help="Target languages (required for an article; for a .jsonl, which columns).")] = None,
    source: Source = None,
    input_format: InputFormat = None,
    models: ModelsFile = None,
    offline: Offline = False,
    device: Device = "auto",
    beam: Beam = None,
    allow_pickle: AllowPickle = False,
    memory: Annotated[Path | None, typer.Option("--memory", help="Translation memory to read (not written).")] = None,
    verbose: Verbose = False,
) -> None:
    """Write one self-contained HTML page with the source and each translation side by side, block by block."""
    from ..interchange.review import read_aligned, review_page
    from ..languages import parse_list
    from ..output import write_atomic

    targets = parse_list(to) if to else None
    problems: list[str] = []
    notes: list[str] = []
    if file.suffix == ".jsonl":
        records = read_aligned(file)
        title = file.name.removesuffix(".jsonl")
    else:
        from ..api import read_document
        from ..interchange.exchange import translate_for_export

        if not targets:
            raise UserError("give the languages to review with --to (e.g. --to nn,da,sv)")
        registry, options = engine_setup(models, offline, allow_pickle, device, beam)
        with SentenceProgress(True) as on_progress:
            [result], _ = translate_for_export([read_document(file, input_format)], targets, memory,
                                               source_lang=source, on_progress=on_progress,
                                               registry=registry, options=options)
        records, title, problems, notes = result.records(), result.document.name, result.problems, result.notes
    write_atomic(out, review_page(records, title, targets))
    typer.echo(f"wrote {out}", err=True)
    finish(problems, notes)
