"""Delta write conflicts: which ones a replace retries, and the error for the others.

When two writers commit to one table at once, Delta refuses the later commit if the earlier
one touched data the later one read. Replaces of different partitions of a table partitioned
by the replaced key (`sampled_paths`, `verified_paths` by model) never conflict; on the other
tables (`models`, `eval_results`, ...) Delta cannot tell `model = 'a'` from `model = 'b'` and
refuses one of two concurrent replaces although they touch different rows.

A retry evaluates the write's rows again and replaces its key range again, so its result is
what running the two writes one after the other gives: data conflicts are retried, with
backoff. Two kinds are reported instead (`ConcurrentWriteError`), because retrying is wrong:
- the table's schema or protocol changed meanwhile (DELTA_METADATA_CHANGED, ...): the rows
  were shaped for the old one;
- a read-modify-write (`Lakehouse.replace(..., read_version=...)`) whose rows were computed
  from rows of the same table that another writer has changed since: writing them would undo
  that writer's change.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# Delta's conflict error classes (io.delta.exceptions.*), as Spark Connect reports them.
DATA_CONFLICTS = (
    "DELTA_CONCURRENT_APPEND", "DELTA_CONCURRENT_DELETE_READ", "DELTA_CONCURRENT_DELETE_DELETE",
    "DELTA_CONCURRENT_WRITE",
)
SCHEMA_CONFLICTS = ("DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED")
_EXCEPTION_NAMES = {
    "ConcurrentAppendException": "DELTA_CONCURRENT_APPEND",
    "ConcurrentDeleteReadException": "DELTA_CONCURRENT_DELETE_READ",
    "ConcurrentDeleteDeleteException": "DELTA_CONCURRENT_DELETE_DELETE",
    "ConcurrentWriteException": "DELTA_CONCURRENT_WRITE",
    "MetadataChangedException": "DELTA_METADATA_CHANGED",
    "ProtocolChangedException": "DELTA_PROTOCOL_CHANGED",
}


class ConcurrentWriteError(RuntimeError):
    """Another writer changed what a replace depends on while it ran; nothing of it was committed."""


def conflict_class(error: BaseException) -> str | None:
    """Delta's conflict class of `error` (e.g. DELTA_CONCURRENT_APPEND), None for other errors."""
    condition = getattr(error, "getCondition", lambda: None)() or ""
    for name in (*DATA_CONFLICTS, *SCHEMA_CONFLICTS):
        if condition == name or condition.startswith(name + "."):
            return name
    text = str(error)
    for exception, name in _EXCEPTION_NAMES.items():
        if exception in text:
            return name
    return None


def is_retryable(conflict: str) -> bool:
    return conflict in DATA_CONFLICTS


def fingerprint(rows: DataFrame) -> tuple[int, int]:
    """(row count, XOR of row hashes): equal for equal sets of distinct rows, whatever their order."""
    row_hash = F.xxhash64(F.to_json(F.struct(*[F.col(c) for c in rows.columns])))
    result = rows.agg(F.count(F.lit(1)).alias("n"), F.bit_xor(row_hash).alias("h")).collect()[0]
    return int(result["n"]), int(result["h"] or 0)


def schema_changed(table: str, conflict: str) -> str:
    return (
        f"{table}: another writer changed the table's schema or protocol ({conflict}) while this write ran, "
        f"and its rows were shaped for the old one. Nothing of this write was committed: run it again "
        f"(`DESCRIBE HISTORY {table}` shows the other writer)."
    )


def read_rows_changed(table: str, read_where: str, versions: tuple[int, int]) -> str:
    return (
        f"{table}: another writer changed the rows this write was computed from ({read_where}) between "
        f"versions {versions[0]} and {versions[1]}; writing would undo that change. Nothing of this write "
        f"was committed: run it again (`DESCRIBE HISTORY {table}` shows the other writer)."
    )
