"""Reading a file's bytes and turning them into UTF-8 the readers can trust.

Never lossy: a replaced character in an email is a different contact, so a byte that does not
decode is an error naming its line, and detection only picks an encoding that decodes the whole
file. polars reads UTF-8 natively; anything else is transcoded to UTF-8 in memory, in one pass.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.polars_csv import read_lines

BOM_UTF8 = codecs.BOM_UTF8
BOM_UTF32_LE = codecs.BOM_UTF32_LE  # checked before UTF-16 LE, whose BOM is its prefix
BOM_UTF32_BE = codecs.BOM_UTF32_BE
BOM_UTF16_LE = codecs.BOM_UTF16_LE
BOM_UTF16_BE = codecs.BOM_UTF16_BE

# Bytes that cp1252 leaves undefined: their presence means the file is not Windows-1252.
CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")

# Magic numbers of files people hand over instead of a CSV export.
WORKBOOK_MAGIC = {
    b"PK\x03\x04": "an Excel .xlsx workbook (or another zip archive)",
    b"\xd0\xcf\x11\xe0": "an Excel .xls workbook",
}

# UTF-16 without a BOM: in mostly-ASCII text every other byte is NUL.
UTF16_SNIFF_BYTES = 4096
UTF16_NUL_SHARE = 0.9

NUL = b"\x00"
BOM_CHAR = "\ufeff"

# Mixed encodings: the lines holding bytes beyond ASCII, judged one by one.
NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")
ASCII_END = 0x80
TEXT_CATEGORIES = frozenset("LNPSZ")  # letters, numbers, punctuation, symbols, separators
MIXED_LINES_SHOWN = 5


@dataclass(frozen=True)
class Decoded:
    """A file's content as UTF-8 bytes (BOM removed) and the encoding it was read with."""

    data: bytes
    encoding: str
    # `read_lines(data)`, when checking the UTF-8 read them (a reader need not read them again)
    lines: pl.DataFrame | None = field(default=None, compare=False, repr=False)


def read_bytes(path: str | Path, source: str, limit: int | None = None) -> bytes:
    """The whole file (with ``limit``, its first ``limit`` bytes at most); a missing file, a
    directory or a permission problem is a SourceError, and so is anything but a regular
    file: a FIFO with no writer would block for ever, a device like /dev/zero never end."""
    file = Path(path)
    try:
        if file.exists() and not file.is_dir() and not file.is_file():
            raise SourceError(
                "is not a regular file (a FIFO, socket or device): copy the data into a file",
                source=source,
            )
        if limit is not None:
            with file.open("rb") as handle:
                return handle.read(limit)
        return file.read_bytes()
    except FileNotFoundError:
        raise SourceError("file not found", source=source) from None
    except IsADirectoryError:
        raise SourceError("is a directory, not a file", source=source) from None
    except PermissionError:
        raise SourceError("permission denied", source=source) from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", source=source) from None


def utf8_lines(data: bytes) -> tuple[bool, pl.DataFrame | None]:
    """Whether `data` is valid UTF-8, as strictly as Python's decoder has it (no surrogates, no
    overlong forms), and the lines the check read (`read_lines(data)`), so a reader need not
    read them again; None when it read none (ASCII needs no reading, and NUL would split a
    line). Checked by polars without making a Python string: read as lines of one column
    each, 30 ms for a 130 MB file on two threads, where decoding it took 160 ms and up to four
    times its size in memory, and copying it into one value to cast 106 ms."""
    if data.isascii():
        return True, None
    try:
        if NUL in data:  # NUL would split a line in two: checked as one value instead
            pl.Series([data], dtype=pl.Binary).cast(pl.String)
            return True, None
        return True, read_lines(data)
    except pl.exceptions.PolarsError:
        return False, None


def line_of(text: str, offset: int) -> int:
    """1-based line holding ``text[offset]``, counting \\r\\n, \\r and \\n as one break each."""
    head = text[:offset]
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


def decode(data: bytes, encoding: str | None, source: str) -> Decoded:
    """UTF-8 bytes of ``data``: the given encoding strictly, or detected.

    Detection: a BOM (UTF-8, UTF-16, UTF-32) wins; else UTF-16 without BOM when every other
    byte is NUL; else valid UTF-8; else cp1252 (Windows-1252, what Excel writes on Windows);
    else latin-1, which decodes any byte, when bytes undefined in cp1252 occur.
    """
    for magic, what in WORKBOOK_MAGIC.items():
        if data.startswith(magic):
            raise SourceError(f"this is {what}, not a text file: save it as CSV", source=source)
    if encoding is not None:
        decoded = _decode_given(data, encoding, source)
    else:
        decoded = _detect(data, source)
    if NUL in decoded.data:
        offset = decoded.data.index(NUL)
        line = line_of(decoded.data[:offset].decode("utf-8", errors="replace"), offset)
        raise SourceError(
            "contains NUL bytes: a binary file, or UTF-16 text without its BOM "
            "(give the encoding explicitly)",
            source=source,
            line=line,
        )
    return decoded


def _decode_given(data: bytes, encoding: str, source: str) -> Decoded:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}", source=source) from None
    if name == "utf-8" and not data.startswith(BOM_UTF8):
        valid, lines = utf8_lines(data)
        if valid:
            return Decoded(data, name, lines)  # already the bytes polars wants
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, name, source) from None
    if name == "utf-8" and not text.startswith(BOM_CHAR):
        return Decoded(data, name)  # already the bytes polars wants
    return Decoded(text.removeprefix(BOM_CHAR).encode("utf-8"), name)


def _undecodable(data: bytes, exc: UnicodeDecodeError, name: str, source: str) -> SourceError:
    head = data[: exc.start].decode(name, errors="replace")
    bad = data[exc.start : exc.end].hex(" ")
    return SourceError(
        f"byte {bad} is not valid {name} (give the file's real encoding)",
        source=source,
        line=line_of(head, len(head)),
    )


def _detect(data: bytes, source: str) -> Decoded:
    if data.startswith(BOM_UTF8):
        return _transcode(data[len(BOM_UTF8) :], "utf-8", "utf-8-sig", source)
    if data.startswith(BOM_UTF32_LE) or data.startswith(BOM_UTF32_BE):
        return _transcode(data, "utf-32", "utf-32", source)
    if data.startswith(BOM_UTF16_LE) or data.startswith(BOM_UTF16_BE):
        return _transcode(data, "utf-16", "utf-16", source)
    utf16 = _utf16_without_bom(data)  # before the UTF-8 test: UTF-16 ASCII is valid UTF-8
    if utf16 is not None:
        return _transcode(data, utf16, utf16, source)
    valid, lines = utf8_lines(data)
    if valid:
        return Decoded(data, "utf-8", lines)
    _refuse_mixed(data, source)
    if CP1252_UNDEFINED.isdisjoint(data):
        return _transcode(data, "cp1252", "cp1252", source)
    return _transcode(data, "latin-1", "latin-1", source)


def _refuse_mixed(data: bytes, source: str) -> None:
    """SourceError when some lines of a file that is not UTF-8 as a whole are UTF-8 text
    (a file appended to from two systems): read as cp1252 they would become mojibake
    (`RenÃ©`), read as UTF-8 the others fail. Lines count as UTF-8 when they decode and
    every character beyond ASCII is a letter, digit, punctuation, symbol or space."""
    utf8: list[int] = []
    other: list[int] = []
    for match in NON_ASCII_LINE.finditer(data):
        try:
            text = match.group().decode("utf-8")
        except UnicodeDecodeError:
            other.append(match.start())
            continue
        if all(
            ord(ch) < ASCII_END or unicodedata.category(ch)[0] in TEXT_CATEGORIES for ch in text
        ):
            utf8.append(match.start())
    if not utf8 or not other:
        return
    raise SourceError(
        f"mixed encodings: UTF-8 on {_lines(data, utf8)}, another encoding (Windows-1252?) "
        f"on {_lines(data, other)}: read either way, some names would be garbled; save the "
        "whole file in one encoding (UTF-8) and run again",
        source=source,
        line=line_of_offset(data, min(utf8[0], other[0])),
    )


def _lines(data: bytes, offsets: list[int]) -> str:
    shown = ", ".join(str(line_of_offset(data, offset)) for offset in offsets[:MIXED_LINES_SHOWN])
    more = len(offsets) - MIXED_LINES_SHOWN
    word = "line" if len(offsets) == 1 else "lines"
    return f"{word} {shown}" + (f" (and {more} more)" if more > 0 else "")


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based line of byte `offset` in `data` (lines end with \\n)."""
    return data.count(b"\n", 0, offset) + 1


def _transcode(data: bytes, codec: str, reported: str, source: str) -> Decoded:
    if codec == "utf-8":
        valid, lines = utf8_lines(data)
        if valid:
            return Decoded(data, reported, lines)
        try:
            data.decode("utf-8")  # for where it fails
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc, "utf-8", source) from None
        return Decoded(data, reported)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, codec, source) from None
    return Decoded(text.removeprefix(BOM_CHAR).encode("utf-8"), reported)


def whole_lines(head: bytes) -> bytes:
    """The first bytes of a file (``head``) up to and with their last line feed, as the
    file's encoding writes one: UTF-16's is two bytes and UTF-32's four, so a head cut
    inside one no longer decodes. ``head`` itself when it holds no line feed."""
    unit, big_endian = _code_unit(head)
    feed = b"\n".rjust(unit, NUL) if big_endian else b"\n".ljust(unit, NUL)
    end = len(head)
    while (at := head.rfind(feed, 0, end)) >= 0:
        if at % unit == 0:  # a whole code unit, not the end of one and the start of the next
            return head[: at + unit]
        end = at + unit - 1
    return head


def _code_unit(data: bytes) -> tuple[int, bool]:
    """(bytes per code unit, big-endian) of the encoding `decode` would detect."""
    if data.startswith(BOM_UTF32_LE) or data.startswith(BOM_UTF32_BE):
        return 4, data.startswith(BOM_UTF32_BE)
    if data.startswith(BOM_UTF16_LE) or data.startswith(BOM_UTF16_BE):
        return 2, data.startswith(BOM_UTF16_BE)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return 2, utf16 == "utf-16-be"
    return 1, False


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the NUL pattern says so, else None."""
    sample = data[:UTF16_SNIFF_BYTES]
    if NUL not in sample or len(sample) < 2:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(NUL) >= UTF16_NUL_SHARE * len(odd):
        return "utf-16-le"
    if even.count(NUL) >= UTF16_NUL_SHARE * len(even):
        return "utf-16-be"
    return None
