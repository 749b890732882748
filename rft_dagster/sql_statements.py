"""SQL text with several statements, split into the single statements Spark runs one at a time.

    split_statements("SELECT 1; -- one\nSELECT ';'")
    # [Statement(text="SELECT 1", line=1), Statement(text="SELECT ';'", line=2)]

Spark's `sql()` takes one statement, and a `;` inside a string, a quoted name or a comment
does not end one, so a plain `text.split(";")` would cut `SELECT ';'` in two. A statement
starts at its first token (comments before it are dropped, those inside it stay; Spark skips
them), so Spark's line and position in an error count from there; a statement of only
comments and blanks is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # line of the file where the statement's first token is (1-based)


def split_statements(text: str) -> list[Statement]:
    statements, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"`":
            i = end_of_quoted(text, i)
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            i = end_of_block_comment(text, i)
        elif ch == ";":
            _append(statements, text, start, i)
            start = i = i + 1
        else:
            i += 1
    _append(statements, text, start, n)
    return statements


def end_of_quoted(text: str, i: int) -> int:
    """Index after the quote closing the one at `i`; backslash escapes in strings, doubled quotes too."""
    quote, i, n = text[i], i + 1, len(text)
    while i < n:
        if text[i] == "\\" and quote != "`":
            i += 2
        elif text[i] == quote:
            if i + 1 < n and text[i + 1] == quote:  # '' inside '...'
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n  # unterminated: the rest is one statement, and Spark reports the error


def end_of_block_comment(text: str, i: int) -> int:
    """Spark's bracketed comments nest: /* a /* b */ c */ is one comment."""
    depth, i, n = 0, i, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _append(statements: list[Statement], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    first_code = _first_code_offset(chunk)
    if first_code is None:
        return
    line = text.count("\n", 0, start + first_code) + 1
    statements.append(Statement(text=chunk[first_code:].rstrip(), line=line))


def _first_code_offset(chunk: str) -> int | None:
    """Offset of the first character that is neither blank nor inside a comment; None if none."""
    i, n = 0, len(chunk)
    while i < n:
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i):
            newline = chunk.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif chunk.startswith("/*", i):
            i = end_of_block_comment(chunk, i)
        else:
            return i
    return None
