"""Reading a CSV file as it comes: encoding and delimiter detected, rows streamed with their line numbers.

The file is read twice, both times in fixed-size pieces (memory stays flat whatever its size):
once to hash it and to check whether all of it is valid UTF-8 (a Windows-1252 byte on line
900,000 must not surface as a crash half-way through an import), then row by row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 20
SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Larger cells are refused (row rejected) rather than held in memory: no lead field is that long.
MAX_FIELD = 1 << 20
csv.field_size_limit(MAX_FIELD)


class UnreadableFile(Exception):
    """Nothing in the file can be read as CSV; the message says what to do."""


@dataclass(frozen=True)
class BadRecord:
    """A record the csv module could not split (e.g. a cell over MAX_FIELD)."""

    line: int
    message: str


@dataclass
class CsvFile:
    path: Path
    checksum: str
    encoding: str  # a Python codec name
    delimiter: str
    header: list[str] = field(default_factory=list)
    header_line: int = 0
    size: int = 0

    @property
    def encoding_label(self) -> str:
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252", "utf-16": "UTF-16"}.get(
            self.encoding, self.encoding
        )

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def open_text(self) -> io.TextIOWrapper[io.BufferedReader]:
        # cp1252 leaves five bytes undefined; a stray one becomes U+FFFD rather than stopping the import.
        errors = "replace" if self.encoding == "cp1252" else "strict"
        return io.TextIOWrapper(open(self.path, "rb"), encoding=self.encoding, errors=errors, newline="")

    def records(self, *, binary_position: list[int] | None = None) -> Iterator[tuple[int, list[str] | BadRecord]]:
        """(first line of the record, its cells) for every non-blank record after the header.

        `binary_position`, when given, is a one-item list kept at the file's byte offset (for progress).
        """
        with self.open_text() as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            previous_end = 0
            raw = text.buffer
            while True:
                start = previous_end + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    previous_end = reader.line_num
                    if start > self.header_line:
                        yield start, BadRecord(start, f"The row cannot be read as CSV: {exc}.")
                    continue
                previous_end = reader.line_num
                if binary_position is not None:
                    binary_position[0] = raw.tell()
                if start <= self.header_line or not any(cell.strip() for cell in cells):
                    continue
                yield start, cells


def open_csv(path: str | Path) -> CsvFile:
    """Inspect the file: checksum, encoding, delimiter and header. Raises UnreadableFile."""
    path = Path(path)
    checksum, size, utf8, first = _scan(path)
    if size == 0 or not first.strip():
        raise UnreadableFile(f"{path.name} is empty: export the leads again with a header row and at least one lead.")
    if b"\x00" in first and not first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(
            f"{path.name} is not a text file (an Excel workbook?): save it as CSV (UTF-8) and import that."
        )
    if first.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8" if utf8 else "cp1252"
    csv_file = CsvFile(path=path, checksum=checksum, encoding=encoding, delimiter=",", size=size)
    with csv_file.open_text() as text:
        sample = text.read(SAMPLE)
    csv_file.delimiter = detect_delimiter(sample)
    header_line, header = _header(csv_file)
    if header is None:
        raise UnreadableFile(f"{path.name} has no header row: its first line must name the columns.")
    csv_file.header, csv_file.header_line = header, header_line
    return csv_file


def _scan(path: Path) -> tuple[str, int, bool, bytes]:
    """(SHA-256, size, whether every byte is valid UTF-8, the first SAMPLE bytes)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, size, first = True, 0, b""
    with open(path, "rb") as raw:
        while chunk := raw.read(CHUNK):
            if not first:
                first = chunk[:SAMPLE]
            digest.update(chunk)
            size += len(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), size, utf8, first


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the header into the most columns and the next rows into as many."""
    lines = sample.splitlines(keepends=True)
    if len(sample) >= SAMPLE and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    text = "".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row][:50]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for row in rows[1:] if len(row) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header(csv_file: CsvFile) -> tuple[int, list[str] | None]:
    with csv_file.open_text() as text:
        reader = csv.reader(text, delimiter=csv_file.delimiter)
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    return reader.line_num, [cell.strip() for cell in cells]
        except csv.Error as exc:
            raise UnreadableFile(f"{csv_file.path.name}: the header row cannot be read ({exc}).") from exc
    return 0, None
