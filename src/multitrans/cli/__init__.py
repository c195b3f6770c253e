"""The `multitrans` command: a thin Typer layer over multitrans.api.

One module per group of commands (translate, languages, models, batch, memory, exchange); each
imports only `common`, which declares the shared options, builds the engine options and maps
errors to exit codes.  This module puts them together.  Heavy libraries (torch, transformers,
the language detector) are imported only inside the commands that need them, so `--help`,
`languages` and `models list` start at once.  May import everything below it (the library).
"""

from __future__ import annotations

import typer

from . import batch, exchange, languages, memory, models, translate

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Translate articles into many languages, keeping their structure exactly.")
for module in (translate, languages, batch, exchange):
    app.registered_commands += module.commands.registered_commands
app.add_typer(models.group, name="models")
app.add_typer(memory.group, name="memory")


def main() -> None:
    app()


__all__ = ["app", "main"]
