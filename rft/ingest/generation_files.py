"""Rows of files made elsewhere (JSONL or Parquet), each with where it came from.

    for row, record in read_records("generations.jsonl"):
        ...  # row prints as generations.jsonl:3 (JSONL line) or generations.parquet row 3

The file type follows the extension: .jsonl, .ndjson or .json (one JSON object per line) and
.parquet or .pq. Blank lines of a JSONL file are not rows and are skipped; everything else is a
row or an error. Errors are `InvalidImport`, naming the file and the 1-based line or row:
invalid UTF-8, invalid or truncated JSON, a line that is not a JSON object, an object that
names a field twice, an unreadable Parquet file or one holding a date, time or duration
Python cannot represent. Lines are read one at a time, so a
megabyte-long line costs a megabyte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 1024


@dataclass(frozen=True)
class Row:
    """Where a record came from: a file and its 1-based line (JSONL) or row (Parquet)."""

    file: str
    number: int
    parquet: bool = False

    def __str__(self) -> str:
        return f"{self.file} row {self.number}" if self.parquet else f"{self.file}:{self.number}"


class InvalidImport(ValueError):
    """A file or one of its rows that cannot be imported; the message starts with where."""

    def __init__(self, where: Row | str | Path, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def show(value, limit: int = 60) -> str:
    """A value for an error message: its repr, cut short, since texts may be megabytes long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_records(path: str | Path) -> Iterator[tuple[Row, dict]]:
    """Every record of a JSONL or Parquet file, in file order, with its row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in JSONL_SUFFIXES + PARQUET_SUFFIXES:
        raise InvalidImport(path, f"unknown file type {suffix or '(none)'!r}: use .jsonl or .parquet")
    if not path.is_file():
        raise InvalidImport(path, "no such file")
    if suffix in PARQUET_SUFFIXES:
        return _parquet_records(path)
    return _jsonl_records(path)


def _jsonl_records(path: Path) -> Iterator[tuple[Row, dict]]:
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            row = Row(str(path), number)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidImport(row, f"invalid UTF-8 at byte {error.start + 1} of the line") from None
            if number == 1:
                line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
            if line.strip():
                yield row, _json_object(line, row, truncated=not raw.endswith(b"\n"))


def _json_object(line: str, row: Row, truncated: bool) -> dict:
    try:
        record = json.loads(line, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        raise InvalidImport(row, f"field {show(duplicate.args[0])} appears twice in one object") from None
    except RecursionError:
        raise InvalidImport(row, "invalid JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and integers too long to convert
        detail = f"{error.msg} at column {error.colno}" if isinstance(error, json.JSONDecodeError) else str(error)
        hint = " (the last line has no newline: is the file truncated?)" if truncated else ""
        raise InvalidImport(row, f"invalid JSON: {detail}{hint}") from None
    if not isinstance(record, dict):
        raise InvalidImport(row, f"expected a JSON object, got {type(record).__name__}")
    return record


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    # json.loads keeps the last of two equal keys; which text was meant is then a guess.
    record = dict(pairs)
    if len(record) != len(pairs):
        seen = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return record


def _parquet_records(path: Path) -> Iterator[tuple[Row, dict]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS)
        for batch in batches:
            for record in batch.to_pylist():
                number += 1
                yield Row(str(path), number, parquet=True), record
    except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
        where = Row(str(path), number + 1, parquet=True) if number else path
        raise InvalidImport(where, f"unreadable Parquet ({error})") from None
    except (OverflowError, ValueError) as error:
        # A date, time or duration outside what Python's datetime holds (found by fuzzing: a
        # date32 of 2**31-1 days): to_pylist raises from the datetime constructors.
        where = Row(str(path), number + 1, parquet=True) if number else path
        raise InvalidImport(where, f"a value Python cannot represent ({error})") from None
