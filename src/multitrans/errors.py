"""The errors multitrans raises on purpose, split by who can fix them.

A `UserError` is something the user can fix (bad input, bad options, missing models, bad
configuration): the CLI prints its message as one line and exits 2.  Any other error is a
failure of the run, exit 3: a `MultitransError` that is not a `UserError` (the outputs could
not be written) with its own message, anything else (a bug) as an internal error.

A `UserError` is also a `ValueError`, as every one of them was before this hierarchy, so
code that calls the library and catches `ValueError` for bad input keeps working.
"""

from __future__ import annotations

__all__ = ["MultitransError", "UserError", "shorten"]

SHORTEN_CHARS = 60


class MultitransError(Exception):
    """Raised by multitrans on purpose; the message is written for the user."""


class UserError(MultitransError, ValueError):
    """The user can fix this by changing the input, the options, the models or the configuration."""


def shorten(value: str, limit: int = SHORTEN_CHARS) -> str:
    """A value the user typed, cut for an error message: an option 100,000 characters long must
    not come back as a 100 kB line, and its start is enough to recognise it."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"
