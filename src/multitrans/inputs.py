"""Reading input files: bytes to text, or one clear reason why not.

Everything a user can hand multitrans by mistake is caught here, before any model
loads: a missing or unreadable path, a directory, an empty or whitespace-only file, a
file over the size limit (which also bounds the memory a run can take), a binary file
(PDF, Word, image...), and text that is not UTF-8.

Encodings: UTF-8 is read as is, with or without a byte-order mark; UTF-16 and UTF-32
are read when a byte-order mark says so.  Anything else is refused, naming the
encoding charset-normalizer finds, unless the user names the encoding with
`--encoding`: guessing silently between windows-1252, ISO-8859-15 and their cousins
would publish mojibake when the guess is wrong, and a newsroom's file is better
converted once than guessed at on every run.  The BOM is not part of the text (a
model would see it as a character), so the translations are written without one.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from .errors import UserError, shorten

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # a long feature article is ~100 kB; this bounds memory, not use

# Longest byte-order marks first: UTF-32-LE's begins with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# Signatures of the binary files most often passed by mistake, to name what was found.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (a .docx, .odt or .epub is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document (.doc)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
)
# Control characters that never occur in text (tab, line feed, form feed, carriage return,
# and escape, which some tools leave in, are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "mi": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3}


class InputError(UserError):
    """The input cannot be read as a document; the message says why, in one line."""


def parse_size(text: str) -> int:
    """A byte count from `500000`, `200kB`, `10MB` or `1GiB` (for --max-size)."""
    match = _SIZE.match(text)
    if not match:
        raise UserError(f"cannot read size '{shorten(text)}'; write it like 500000, 200kB, 10MB or 1GiB")
    number, unit = match.groups()
    size = int(float(number) * _UNITS[(unit or "").lower()])
    if size < 1:
        raise UserError(f"size '{shorten(text)}' must be at least one byte")
    return size


def read_text(path: str | Path, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of the file at `path`, or InputError saying in one line why it cannot be read."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path} is a directory, not a file; name the articles inside it")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(not_regular(str(path), info.st_mode))
        if info.st_size > max_bytes:
            raise InputError(_too_big(str(path), info.st_size, max_bytes))
        data = read_regular(path, max_bytes + 1)  # a file that grew since stat() cannot slip past the limit
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return decode(data, str(path), encoding=encoding, max_bytes=max_bytes)


_CHUNK = 1 << 20


def read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of the regular file at `path`.

    Opened without blocking and checked on the open descriptor, so a named pipe (which
    would wait forever for a writer) or a device put in a file's place is refused, never
    read; read in chunks, so a generous limit costs nothing up front."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(not_regular(str(path), mode))
        return read_limited(lambda n: os.read(fd, n), limit)
    finally:
        os.close(fd)


def read_limited(read: Callable[[int], bytes], limit: int) -> bytes:
    """At most `limit` bytes from `read`, in chunks: asked for a large limit at once, a reader
    allocates all of it up front (a 30GB --max-size would fail for want of memory)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = read(min(_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def not_regular(name: str, mode: int) -> str:
    """Why a path that is no regular file is not read: named pipes, sockets and devices never end."""
    kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))
    kind = next((label for test, label in kinds if test(mode)), "not a regular file")
    return f"{name} is {kind}, not a regular file; multitrans reads only regular files"


def decode(data: bytes, name: str, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Bytes of an article (a file, or standard input) as text; InputError when they are not one."""
    if len(data) > max_bytes:  # callers read at most one byte more than the limit: the size is unknown
        raise InputError(_too_big(name, None, max_bytes))
    if not data:
        raise InputError(f"{name} is empty; there is nothing to translate")
    if encoding:
        text = _decode_as(data, name, encoding)
    else:
        text = _decode_detected(data, name)
    if _CONTROL.search(text):
        raise InputError(f"{name} is a binary file, not text (it holds control characters); "
                         "multitrans reads plain-text and Markdown articles")
    if not text.strip():
        raise InputError(f"{name} holds only whitespace; there is nothing to translate")
    return text


def _decode_as(data: bytes, name: str, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding '{shorten(encoding)}' for --encoding; try utf-8, windows-1252 or latin-1") from exc
    for bom, bom_codec, _ in _BOMS:
        if data.startswith(bom) and codecs.lookup(bom_codec).name.split("-")[:2] == codec.name.split("-")[:2]:
            data = data[len(bom):]
            break
    try:
        text = data.decode(codec.name)
    except LookupError as exc:  # rot13, base64, hex, zlib: codecs Python knows, but no character sets
        raise InputError(f"'{shorten(encoding)}' is not a text encoding; --encoding names the character set the "
                         "file is written in, such as utf-8, windows-1252 or latin-1") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not valid {encoding} text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from exc
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:  # UTF-7 (and a few others) decode to halves of a character that no text holds
        raise InputError(f"{name} is not valid {encoding} text: it decodes to a lone surrogate "
                         f"(U+{ord(surrogate.group()):04X}, character {surrogate.start()}), half of a character; "
                         "check the encoding, or convert the file to UTF-8")
    return text


def _decode_detected(data: bytes, name: str) -> str:
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name} starts with a {label} byte-order mark but is not valid {label} (byte {exc.start + len(bom)})"
                ) from exc
    binary = _binary_message(data, name)
    if binary:
        raise InputError(binary)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(_not_utf8(data, name, exc)) from exc


def _binary_message(data: bytes, name: str) -> str | None:
    """Why `data` is not text, naming what it seems to be; None for text.  NUL bytes mean
    binary, unless they are the zero halves of UTF-16 written without a byte-order mark."""
    kind = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
    if kind is None:
        head = data[:8192]
        if b"\x00" not in head:
            return None
        guess = (_guess_encoding(head) or "").replace("_", "-")
        if guess.startswith(("utf-16", "utf-32")):
            return (f"{name} looks like {guess} text without a byte-order mark; "
                    f"pass --encoding {guess} to read it as that, or convert it to UTF-8")
        kind = "a binary file"
    return f"{name} is {kind}, not text; multitrans reads plain-text and Markdown articles"


def _not_utf8(data: bytes, name: str, exc: UnicodeDecodeError) -> str:
    where = f"byte {exc.start} is {data[exc.start:exc.start + 1]!r}"
    guess = _guess_encoding(data)
    if guess is None:
        return f"{name} is not UTF-8 text ({where}) and its encoding could not be recognized; convert it to UTF-8"
    label = guess.replace("_", "-")
    return (f"{name} is not UTF-8 text ({where}); it looks like {label}: convert it to UTF-8, "
            f"or pass --encoding {label} to read it as that")


def _guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's best guess at an encoding, None when it has none."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None else None


def _too_big(name: str, size: int | None, limit: int) -> str:
    what = f"is {_human(size)}, over" if size is not None else "is over"
    return (f"{name} {what} the {_human(limit)} input limit; "
            "split it, or raise the limit with --max-size (e.g. --max-size 50MB)")


def _human(size: int) -> str:
    for unit, factor in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"
