"""The `multitrans` command: a thin Typer layer over multitrans.api.

Heavy libraries (torch, transformers, the language detector) are imported only by the
commands that need them, so `--help`, `languages` and `models list` start at once.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Translate articles into many languages, keeping their structure exactly.")
models_app = typer.Typer(no_args_is_help=True, help="List, fetch and convert the models in the registry.")
app.add_typer(models_app, name="models")

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and details.")]
ModelsFile = Annotated[Path | None, typer.Option("--models", help="Model registry to use instead of the built-in models.yaml.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
F = TypeVar("F", bound=Callable[..., Any])

# 0 done; 1 done with problems (or, with --strict, any quality flag); 2 bad usage or bad input,
# nothing written; 3 the run failed (output could not be written, or an internal error) and
# left no partial file.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
REPORT_ROWS = 25  # flag rows printed on the console; --report FILE.json holds them all


def _user_errors() -> tuple[type[BaseException], ...]:
    from ..api import InputError
    from ..pipeline.detect import TooLittleText
    from ..engines.base import EngineError
    from ..formats import UnsupportedFormat
    from ..languages import UnknownLanguage
    from ..output import OutputError
    from ..config.registry import RegistryError

    return (InputError, TooLittleText, UnsupportedFormat, UnknownLanguage, OutputError, RegistryError, EngineError, ValueError)


def handles_errors(func: F) -> F:
    """Turn errors a user can cause into one line and exit code 2; -v shows the traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if kwargs.get("verbose"):
                traceback.print_exc()
            from ..output import WriteError

            if isinstance(exc, WriteError):
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(EXIT_FAILED) from None
            if isinstance(exc, _user_errors()):
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(EXIT_USAGE) from None
            if not kwargs.get("verbose"):
                typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", err=True)
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


@app.command(epilog="Example: multitrans translate article.txt --to nn,da,sv --out translations/")
@handles_errors
def translate(
    files: Annotated[list[str], typer.Argument(help="Articles (.txt, .md, .html); '-' reads standard input and writes standard output.")],
    to: Annotated[str, typer.Option("--to", "-t", help="Target languages, comma-separated (e.g. en,de,fr,nn).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("translations"),
    source: Annotated[str | None, typer.Option("--from", "-f", help="Source language; detected when omitted.")] = None,
    layout: Annotated[str, typer.Option(help="Output path template: {lang}, {name}, {stem}, {ext}, {path}.")] = "{lang}/{name}",
    fmt: Annotated[str | None, typer.Option("--format", help="text, markdown or html; by default from the file extension.")] = None,
    models: ModelsFile = None,
    offline: Annotated[bool, typer.Option(help="Use only models already on this machine; never touch the network.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    beam: Annotated[int, typer.Option(min=1, help="Beam size (1 = greedy).")] = 1,
    memory: Annotated[Path | None, typer.Option("--memory", help="Translation memory file; default: OUT/.multitrans/memory.sqlite (none when writing to stdout).")] = None,
    no_memory: Annotated[bool, typer.Option("--no-memory", help="Neither look up nor remember translations.")] = False,
    glossary: Annotated[Path | None, typer.Option("--glossary", help="YAML with `keep:` (names never translated) and `terms:` (fixed translations per language).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the quality report (every flag) to this JSON file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with 1 when any quality flag remains.")] = False,
    allow_pickle: Annotated[bool, typer.Option("--allow-pickle", help="Load models that only have pickled .bin weights (they can run code; trusted models only).")] = False,
    max_size: Annotated[str, typer.Option("--max-size", help="Refuse input files larger than this (e.g. 10MB).")] = "10MB",
    encoding: Annotated[str | None, typer.Option("--encoding", help="Read input in this encoding instead of UTF-8 (e.g. windows-1252).")] = None,
    verbose: Verbose = False,
) -> None:
    """Translate articles into one or more languages: one file per language plus aligned/<name>.jsonl."""
    from ..api import parse_document, read_document, translate_documents, write_result
    from ..config.glossary import load_glossary
    from ..inputs import decode, parse_size
    from ..engines.base import EngineOptions
    from ..languages import parse_list
    from ..config.registry import load_registry

    targets = parse_list(to)
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown --device '{device}'; use auto, cpu or cuda")
    registry = load_registry(models)
    if offline:
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"
    options = EngineOptions(device=device, beam=beam, offline=offline, allow_pickle=allow_pickle)
    terms = registry.glossary.merge(load_glossary(glossary)) if glossary else None
    limit = parse_size(max_size)
    stdin = files == ["-"]
    if stdin:
        if len(targets) != 1:
            raise ValueError("reading standard input ('-') writes one translation to standard output; give exactly one --to language")
        text = decode(sys.stdin.buffer.read(limit + 1), "standard input", encoding=encoding, max_bytes=limit)
        documents = [parse_document(text, "stdin.md" if fmt == "markdown" else "stdin.txt", fmt)]
    else:
        documents = [read_document(f, fmt, encoding=encoding, max_bytes=limit) for f in files]
    from ..memory.session import memory_session

    memory_file = None if no_memory else memory or (None if stdin else out / ".multitrans" / "memory.sqlite")
    with _progress(not stdin) as on_progress, memory_session(memory_file) as session:
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
    from ..pipeline.report import report as quality_report

    quality = quality_report(results)
    _print_quality(quality)
    if report is not None:
        from ..output import write_atomic_all

        write_atomic_all([(report, json.dumps(quality, ensure_ascii=False, indent=2) + "\n")])
    for problem in dict.fromkeys(problems):
        typer.echo(f"warning: {problem}", err=True)
    flagged = strict and bool(quality["flags"])
    raise typer.Exit(EXIT_PROBLEMS if problems or flagged else EXIT_OK)


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
        cells = [row["document"], str(row["block"]), row["lang"], row["code"], row["attempt"] or "-", _short(row["detail"], 90)]
        table.add_row(*cells[1 if len(documents) == 1 else 0 :])
    console = Console(stderr=True, width=max(100, Console(stderr=True).width))
    console.print(table)
    more = f" ({len(rows) - REPORT_ROWS} more rows in --report FILE.json)" if len(rows) > REPORT_ROWS else ""
    totals = ", ".join(f"{code} {n}" for code, n in quality["flags"].items())
    console.print(f"flags: {totals}{more}", highlight=False, soft_wrap=True)


class _progress:
    """A progress bar on stderr when it is a terminal; otherwise nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("translating sentences", total=None)

        def update(advance: int, total: int) -> None:
            self.bar.update(task, advance=advance, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command(epilog="Example: multitrans detect article.txt --json")
@handles_errors
def detect(
    files: Annotated[list[Path], typer.Argument(help="Articles to examine.")],
    json_out: Json = False,
    fmt: Annotated[str | None, typer.Option("--format", help="text, markdown or html; by default from the file extension.")] = None,
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
            typer.echo(f"  block {block['id']}: {block['lang']} ({block['confidence']:.2f}) {_short(block['text'])}")


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command(epilog="Example: multitrans languages --from nb --json")
@handles_errors
def languages(
    source: Annotated[str, typer.Option("--from", "-f", help="Source language the routes start from.")] = "nb",
    models: ModelsFile = None,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """List every target language with its name and the models that would translate into it."""
    from ..languages import all_codes, name, normalize
    from ..config.registry import load_registry

    registry = load_registry(models)
    src = normalize(source)
    rows = [{"code": c, "name": name(c), "route": registry.route_names(src, c)} for c in all_codes() if c != src]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['code']:<9} {row['name']:<32} {' → '.join(row['route']) or '(no route)'}")


@models_app.command("list", epilog="Example: multitrans models list --json")
@handles_errors
def models_list(models: ModelsFile = None, json_out: Json = False, verbose: Verbose = False) -> None:
    """List the configured models and whether each is present on this machine."""
    from ..config.catalog import model_status
    from ..config.registry import load_registry

    rows = [model_status(spec) for spec in load_registry(models).models.values()]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        mark = "present" if row["present"] else "missing"
        typer.echo(f"{row['name']:<26} {row['engine']:<9} {mark:<8} {row['model'] or ''} {row['revision'] or ''}".rstrip())


@models_app.command("pull", epilog="Example: multitrans models pull --to en,de,fr --from nb,en")
@handles_errors
def models_pull(
    to: Annotated[str, typer.Option("--to", "-t", help="Target languages whose routes to fetch.")],
    source: Annotated[str, typer.Option("--from", "-f", help="Source languages (comma-separated).")] = "nb,en",
    models: ModelsFile = None,
    verbose: Verbose = False,
) -> None:
    """Download what the routes to these languages need into the Hugging Face cache, for later --offline runs."""
    from ..languages import parse_list
    from ..config.catalog import pull_routes
    from ..config.registry import load_registry

    failures = pull_routes(load_registry(models), parse_list(source), parse_list(to), lambda line: typer.echo(line, err=True))
    raise typer.Exit(EXIT_PROBLEMS if failures else EXIT_OK)


@models_app.command("convert", epilog="Example: multitrans models convert opus-mt-en-ROMANCE --quantization int8")
@handles_errors
def models_convert(
    model: Annotated[str, typer.Argument(help="A model named in the registry, a hub id, or a local model directory.")],
    quantization: Annotated[str, typer.Option(help="int8 (CPU), int8_float16 or float16 (CUDA), float32.")] = "int8",
    revision: Annotated[str | None, typer.Option(help="Hub revision to convert (default: the registry's, else main).")] = None,
    models: ModelsFile = None,
    offline: Annotated[bool, typer.Option(help="Convert only what is already on this machine.")] = False,
    force: Annotated[bool, typer.Option(help="Convert again even if this revision was converted already.")] = False,
    verbose: Verbose = False,
) -> None:
    """Convert a Marian or NLLB model to CTranslate2; its routes then run on CTranslate2 (runtime: auto)."""
    from ..engines.convert import check_quantization, convert_model, spec_for
    from ..engines.base import EngineOptions
    from ..config.registry import load_registry

    check_quantization(quantization)
    if offline:
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"
    spec = spec_for(model, load_registry(models), revision)
    path = convert_model(spec, quantization, options=EngineOptions(offline=offline), force=force,
                         say=lambda line: typer.echo(line, err=True))
    typer.echo(str(path))


from . import batch  # noqa: E402,F401 - registers the `batch` and `memory` commands on the app

from . import exchange  # noqa: E402,F401 - registers the `export`, `import` and `review` commands on the app


def main() -> None:
    app()
