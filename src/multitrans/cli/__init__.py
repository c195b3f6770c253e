"""The `multitrans` command: a thin Typer layer over multitrans.api.

One module per group of commands (translate, languages, models, batch, memory, exchange); each
imports only `common`, which declares the shared options, builds the engine options and maps
errors to exit codes.  This module puts them together.  Heavy libraries (torch, transformers,
the language detector) are imported only inside the commands that need them, so `--help`,
`languages` and `models list` start at once.  `--version` (version.py) and shell completion
(Typer's own) are options of the app itself.  May import everything below it (the library).
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import batch, exchange, languages, memory, models, translate
from .version import version_text

app = typer.Typer(no_args_is_help=True, help="Translate articles into many languages, keeping their structure exactly.")
for module in (translate, languages, batch, exchange):
    app.registered_commands += module.commands.registered_commands
app.add_typer(models.group, name="models")
app.add_typer(memory.group, name="memory")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the versions of multitrans, transformers, CTranslate2, lingua and Apertium, and exit.")] = False,
) -> None:
    """The options of `multitrans` itself, before any command (the help text is the app's)."""


def main() -> None:
    app()


__all__ = ["app", "main"]
