"""`rft sql` and `rft tables`: Spark SQL text in, readable tables and plain-language errors out.

    for result in run_sql(spark, "SELECT 1 AS one; SHOW TABLES IN rft", limit=50):
        print(render_result(result, width=60))
    print_sql(spark, "SELECT 1", limit=50, width=60, fmt="table")   # what `rft sql` does: its exit code
    print_sql(spark, "INSERT INTO scratch.t VALUES (1)", limit=50, width=60, fmt="table", write=True)

Errors come back as `SqlError` with Spark's message, the statement's line and a pointer to
the offending text, never the server's JVM stack trace; an unknown table also lists the
tables there are.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession

from rft_dagster.sql_guard import classify, refusal
from rft_dagster.sql_statements import Statement, split_statements
from spark_jobs.damaged_tables import describe, local_location_in, looks_like_damaged_log
from spark_jobs.lakehouse import to_pandas
from spark_jobs.pyspark_loggers import use_made_pyspark_loggers
from spark_jobs.schemas import DATABASE, TABLES

NULL = "NULL"


class SqlError(Exception):
    """A statement Spark refused or failed; the message is meant for a person."""


@dataclass(frozen=True)
class Result:
    statement: Statement
    number: int  # 1-based, of `total` statements in the text
    total: int
    frame: pd.DataFrame  # no columns: a command (CREATE, INSERT, ...) that returns nothing
    more: bool  # rows beyond the limit exist


def run_sql(spark: SparkSession, text: str, limit: int) -> Iterator[Result]:
    """Run each statement of `text` in order, up to `limit` rows of each (0: all); stop at an error."""
    from pyspark.errors import PySparkException

    statements = split_statements(text)
    if not statements:
        raise ValueError("no SQL statement in the input")
    _quiet_error_log()
    for number, statement in enumerate(statements, start=1):
        try:
            df = spark.sql(statement.text)  # commands run here, queries when fetched
            frame = to_pandas(df.limit(limit + 1) if limit else df)
        except PySparkException as exc:
            where = f"statement {number}, from line {statement.line}: " if len(statements) > 1 else ""
            raise SqlError(where + describe_error(exc, statement.text, spark)) from None
        more = bool(limit) and len(frame) > limit
        yield Result(statement, number, len(statements), frame.head(limit) if limit else frame, more)


def print_sql(spark: SparkSession, text: str, *, limit: int, width: int, fmt: str,
              write: bool = False, drop_project_tables: bool = False) -> int:
    """`rft sql`: each statement's result on stdout as it comes, an error on stderr; the exit code.

    Read-only unless `write`; destroying a project table also needs `drop_project_tables`
    (rft_dagster/sql_guard.py). A refused text runs none of its statements.
    """
    verdicts = classify(text, current_database=spark.catalog.currentDatabase(), project_database=DATABASE)
    refused = refusal(verdicts, write=write, drop_project_tables=drop_project_tables)
    if refused:
        print(f"rft sql: {refused}", file=sys.stderr)
        return 1
    try:
        for result in run_sql(spark, text, limit):
            if result.total > 1 and fmt == "table":
                first_line = result.statement.text.splitlines()[0][:100]
                print(f"{'' if result.number == 1 else chr(10)}-- [{result.number}/{result.total}] {first_line}")
            rendered = render_result(result, width, fmt)
            if rendered:
                print(rendered, flush=True)
            if result.more and fmt != "table":  # the table says so itself; keep piped output clean
                print(f"rft sql: only the first {limit} rows; --limit 0 gives all", file=sys.stderr)
    except SqlError as exc:
        print(f"rft sql: {exc}", file=sys.stderr)
        return 1
    return 0


def _quiet_error_log() -> None:
    # pyspark logs every failed query with the server's JVM stack trace before raising; the
    # CLI prints its own message instead. A PySparkLogger: it is called with extra fields.
    from pyspark.logger import PySparkLogger

    use_made_pyspark_loggers()  # readers in several threads call this: see spark_jobs/pyspark_loggers.py
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)


def describe_error(exc, statement: str, spark: SparkSession | None = None) -> str:
    """Spark's message without stack trace or plan dump, with a pointer into the statement."""
    condition = exc.getCondition() or ""
    contexts = [c for c in exc.getQueryContext() if hasattr(c, "startIndex")]
    pointer = point_at(statement, contexts[0].startIndex(), contexts[0].stopIndex()) if contexts else ""
    if condition == "TABLE_OR_VIEW_NOT_FOUND":
        name = (exc.getMessageParameters() or {}).get("relationName", "?").replace("`", "")
        message = f"unknown table or view {name}"
        if pointer:
            message += "\n" + pointer
        return message + ("\n" + known_tables_hint(spark, name) if spark is not None else "")
    if looks_like_damaged_log(str(exc)):  # a log damaged after this command's start checked it
        return damage_description(str(exc))
    message = clean_message(str(exc))
    return message + ("\n" + pointer if pointer and "== SQL" not in message else "")


def damage_description(message: str) -> str:
    """The damaged table's name (from the file Spark names), its commit and how to restore it."""
    location = local_location_in(message)
    table = f"{location.parent.name.removesuffix('.db')}.{location.name}" if location else "a table"
    return describe(table, location, message)


def clean_message(message: str) -> str:
    """Drop the JVM stack trace and the logical plan Spark appends to analysis errors."""
    message = message.split("JVM stacktrace:")[0]
    message = re.sub(r"; line (\d+) pos (\d+);\n.*", r" (line \1, pos \2)", message, flags=re.S)
    return message.strip()


def point_at(statement: str, start: int, stop: int) -> str:
    """The statement's line holding [start, stop] with carets under that span."""
    line_start = statement.rfind("\n", 0, start) + 1
    line_end = statement.find("\n", start)
    line = statement[line_start:line_end if line_end >= 0 else len(statement)]
    width = max(1, min(stop, line_start + len(line) - 1) - start + 1)
    return f"  {line}\n  {' ' * (start - line_start)}{'^' * width}"


def known_tables_hint(spark: SparkSession, missing: str) -> str:
    tables = all_tables(spark)
    close = difflib.get_close_matches(missing if "." in missing else f"{DATABASE}.{missing}", tables, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{hint}tables: {', '.join(tables) or '(none)'} (`rft tables` shows rows and versions)"


def all_tables(spark: SparkSession) -> list[str]:
    return [name for name, _, _ in catalog_tables(spark)]


def catalog_tables(spark: SparkSession) -> list[tuple[str, str, str]]:
    """(database.table, MANAGED/EXTERNAL/VIEW, comment) of every database, `rft` first."""
    databases = sorted((r[0] for r in spark.sql("SHOW DATABASES").collect()), key=lambda d: (d != DATABASE, d))
    return [
        (f"{db}.{t.name}", t.tableType, t.description or "")
        for db in databases for t in sorted(spark.catalog.listTables(db), key=lambda t: t.name)
        if not t.isTemporary  # a session's temporary views show up in every database
    ]


def render_result(result: Result, width: int, fmt: str = "table") -> str:
    """The rows as a table (cells cut to `width` characters, 0: uncut), CSV or JSON lines."""
    frame = result.frame
    if frame.columns.empty:
        return "OK" if fmt == "table" else ""
    if fmt == "csv":
        return frame.map(_plain).to_csv(index=False).rstrip("\n")
    if fmt == "json":
        return frame.to_json(orient="records", lines=True, date_format="iso", default_handler=str).rstrip("\n")
    cells = frame.map(lambda v: _cell(v, width))
    align = ["right" if _is_number_column(frame[c]) else "left" for c in frame.columns]
    table = cells.to_markdown(index=False, disable_numparse=True, colalign=align)
    return f"{table}\n{row_note(len(frame), result.more)}"


def _is_number_column(column: pd.Series) -> bool:
    values = column.dropna()
    return not values.empty and all(
        isinstance(v, (int, float, Decimal, np.number)) and not isinstance(v, (bool, np.bool_)) for v in values
    )


def row_note(n: int, more: bool) -> str:
    if more:
        return f"(first {n} rows; --limit N shows more, --limit 0 all)"
    return f"({n} row{'' if n == 1 else 's'})"


def _plain(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(_python(value))


def _cell(value, width: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NULL
    text = str(_python(value)).replace("\r", "").replace("\n", "\\n").replace("|", "\\|")
    return text if not width or len(text) <= width else text[: width - 1] + "…"


def _python(value):
    """Arrays and maps come back as numpy arrays and lists of pairs; print them as Python would."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def table_overview(spark: SparkSession) -> pd.DataFrame:
    """Every table and view: rows, Delta version, last update and operation, what one row is."""
    _quiet_error_log()
    tables = catalog_tables(spark)
    # Two small queries per table, sent together: the server answers them concurrently.
    with ThreadPoolExecutor(max_workers=8) as pool:
        commits = list(pool.map(lambda t: _last_commit(spark, t[0]) if t[1] != "VIEW" else ("-", "-", "view"), tables))
        counts = list(pool.map(lambda t: spark.table(_quoted(t[0])).count(), tables))
    rows = []
    for (name, _, comment), (version, updated, operation), n in zip(tables, commits, counts):
        database, table = name.split(".", 1)
        described = TABLES[table].row if database == DATABASE and table in TABLES else comment
        rows.append({
            "table": name, "rows": n, "version": version, "last update": updated, "operation": operation,
            "one row is": described,
        })
    return pd.DataFrame(rows, columns=["table", "rows", "version", "last update", "operation", "one row is"])


def _last_commit(spark: SparkSession, name: str) -> tuple[str, str, str]:
    """Version, time and operation of the table's last Delta commit ("-" for other formats)."""
    from pyspark.errors import PySparkException

    try:
        last = spark.sql(f"DESCRIBE HISTORY {_quoted(name)} LIMIT 1").collect()[0]
    except PySparkException:
        return "-", "-", "-"
    return str(last["version"]), last["timestamp"].strftime("%Y-%m-%d %H:%M:%S"), last["operation"]


def _quoted(name: str) -> str:
    return ".".join(f"`{part.replace('`', '``')}`" for part in name.split(".", 1))
