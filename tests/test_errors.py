"""The error hierarchy and what the CLI makes of it: a user's mistake exits 2 with one line, a
failed run 3 with its message, a bug 3 as an internal error; -v adds the traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from multitrans.archive.job import BatchError
from multitrans.cli import app
from multitrans.config.glossary import GlossaryError
from multitrans.config.registry import RegistryError
from multitrans.engines.base import EngineError, ModelUnavailable, OptionsError
from multitrans.engines.convert import ConversionError
from multitrans.errors import MultitransError, UserError
from multitrans.formats import UnsupportedFormat
from multitrans.formats.html import HTMLReadError
from multitrans.inputs import InputError
from multitrans.interchange.xliff import XliffError
from multitrans.languages import UnknownLanguage
from multitrans.memory.store import MemoryFileError
from multitrans.output import OutputError, WriteError
from multitrans.pipeline.detect import LanguageUndecided, TooLittleText

runner = CliRunner()

USER_ERRORS = [InputError, UnknownLanguage, UnsupportedFormat, HTMLReadError, LanguageUndecided, TooLittleText,
               OutputError, RegistryError, GlossaryError, EngineError, OptionsError, ModelUnavailable,
               ConversionError, MemoryFileError, BatchError, XliffError]


@pytest.mark.parametrize("error", USER_ERRORS, ids=lambda error: error.__name__)
def test_errors_a_user_can_fix_are_user_errors(error):
    assert issubclass(error, UserError)
    assert issubclass(error, ValueError)  # as before the hierarchy: callers catching ValueError still do


def test_a_write_failure_is_a_failed_run_not_a_user_error():
    assert issubclass(WriteError, MultitransError) and not issubclass(WriteError, UserError)


def translate_raising(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: BaseException, *args: str):
    def read_document(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr("multitrans.api.read_document", read_document)
    article = tmp_path / "a.txt"
    article.write_text("Hei.\n", encoding="utf-8")
    return runner.invoke(app, ["translate", str(article), "--to", "nn", "--out", str(tmp_path / "out"), *args])


def test_a_user_error_exits_2_with_its_message(monkeypatch, tmp_path):
    result = translate_raising(monkeypatch, tmp_path, UserError("the article is in a drawer"))
    assert result.exit_code == 2
    assert result.output.strip() == "error: the article is in a drawer"


def test_a_failed_run_exits_3_with_its_message(monkeypatch, tmp_path):
    result = translate_raising(monkeypatch, tmp_path, WriteError("the disk is full; nothing was written"))
    assert result.exit_code == 3
    assert result.output.strip() == "error: the disk is full; nothing was written"


def test_an_internal_error_exits_3_and_names_itself(monkeypatch, tmp_path):
    result = translate_raising(monkeypatch, tmp_path, ValueError("index out of step"))
    assert result.exit_code == 3
    assert result.output.strip() == ("error: internal error: ValueError: index out of step "
                                     "(run with -v for the traceback)")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("error, code", [(ValueError("index out of step"), 3), (UserError("a drawer"), 2)])
def test_verbose_shows_the_traceback(monkeypatch, tmp_path, error, code):
    result = translate_raising(monkeypatch, tmp_path, error, "-v")
    assert result.exit_code == code
    assert "Traceback (most recent call last)" in result.output
    assert "run with -v" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: ")


def test_an_interrupt_exits_130(monkeypatch, tmp_path):
    result = translate_raising(monkeypatch, tmp_path, KeyboardInterrupt())
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted"
