"""What the commands share: the options, declared once; the exit codes and the one place that
turns errors into them; the registry and engine options built from the model options; the
sentence progress bar.

Only typer and the standard library are imported here at module level, so that `--help`,
`detect` and `languages` start without the heavy libraries.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from ..errors import MultitransError, UserError, shorten

if TYPE_CHECKING:
    from ..config.registry import Registry
    from ..engines.base import EngineOptions

# 0 done; 1 done with problems (or, with --strict, any quality flag); 2 bad usage or bad input,
# nothing written; 3 the run failed (output could not be written, or an internal error) and
# left no partial file; 130 interrupted (Ctrl-C), as a shell reports it.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130



def finish(problems: Iterable[str], notes: Iterable[str] = (), *, flagged: bool = False) -> NoReturn:
    """End a command that ran: its notes (what was left as it is by design: no problem), then its
    problems, each once, and the exit status they make (1 for any problem, or with --strict any
    flag; else 0)."""
    for note in dict.fromkeys(notes):
        typer.echo(f"note: {note}", err=True)
    said = list(dict.fromkeys(problems))
    for problem in said:
        typer.echo(f"warning: {problem}", err=True)
    raise typer.Exit(EXIT_PROBLEMS if said or flagged else EXIT_OK)


DEVICES = ("auto", "cpu", "cuda")
_DOCUMENT_FORMAT_HELP = "text, markdown or html; by default from the file extension."

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and details.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
To = Annotated[str, typer.Option("--to", "-t", help="Target languages, comma-separated (e.g. nn,da,sv).")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output directory.")]
Source = Annotated[str | None, typer.Option("--from", "-f", help="Source language; detected when omitted.")]
Layout = Annotated[str, typer.Option(help="Output path template: {lang}, {name}, {stem}, {ext}, {path}.")]
DocumentFormat = Annotated[str | None, typer.Option("--format", help=_DOCUMENT_FORMAT_HELP)]
InputFormat = Annotated[str | None, typer.Option("--input-format", help=_DOCUMENT_FORMAT_HELP)]
Memory = Annotated[Path | None, typer.Option(
    "--memory", help="Translation memory file (SQLite); default: OUT/.multitrans/memory.sqlite.")]
NoMemory = Annotated[bool, typer.Option("--no-memory", help="Neither look up nor remember translations.")]

# The model options: every command that loads models takes ModelsFile, Offline and AllowPickle;
# those that translate also Device and Beam.  engine_setup turns them into a run's settings.
ModelsFile = Annotated[Path | None, typer.Option("--models", help="Model registry to use instead of the built-in models.yaml.")]
Offline = Annotated[bool, typer.Option(help="Use only models already on this machine; never touch the network.")]
# Deprecated, no effect: `.bin` weights are always read by torch's weights-only unpickler
# (engines/hub.py).  Kept, hidden, so that scripts that pass it do not start failing.
AllowPickle = Annotated[bool, typer.Option("--allow-pickle", hidden=True, help="Deprecated; has no effect.")]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
Beam = Annotated[int | None, typer.Option(
    min=1, show_default=False, help="Beam size (1 = greedy); default: each model's own setting.")]

F = TypeVar("F", bound=Callable[..., Any])


def engine_setup(models: Path | None, offline: bool, allow_pickle: bool, device: str = "auto",
                 beam: int | None = None) -> tuple[Registry, EngineOptions]:
    """The registry and engine options the model options ask for (`allow_pickle`, the deprecated
    --allow-pickle, changes nothing).

    --offline also sets HF_HUB_OFFLINE, so that the Hugging Face libraries themselves (a
    tokenizer's or a configuration's lookup) never reach for the network either.
    """
    from ..config.registry import load_registry
    from ..engines.base import EngineOptions

    if device not in DEVICES:
        raise UserError(f"unknown --device '{shorten(device)}'; use auto, cpu or cuda")
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    options = EngineOptions(device=device, beam=beam, offline=offline)
    return load_registry(models), options


def memory_file(memory: Path | None, no_memory: bool, out: Path) -> Path | None:
    """The translation memory a run uses: --memory, else the one under --out; none with --no-memory."""
    from ..archive.job import default_memory_path

    return None if no_memory else memory or default_memory_path(out)


def handles_errors(func: F) -> F:
    """Turn every error into one line on stderr and an exit code; -v adds the traceback.

    A UserError exits 2; any other MultitransError (the outputs could not be written) exits
    3; anything else is a bug, also 3, named as an internal error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - every error ends as one line and an exit code
            verbose = bool(kwargs.get("verbose"))
            if verbose:
                traceback.print_exc()
            typer.echo(f"error: {_error_line(exc, verbose)}", err=True)
            raise typer.Exit(EXIT_USAGE if isinstance(exc, UserError) else EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def _error_line(exc: Exception, verbose: bool) -> str:
    if isinstance(exc, MultitransError):
        return str(exc)
    hint = "" if verbose else " (run with -v for the traceback)"
    return f"internal error: {type(exc).__name__}: {exc}{hint}"


class SentenceProgress:
    """A progress bar of translated sentences on stderr when it is a terminal; otherwise nothing."""

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


def short(text: str, width: int = 60) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
