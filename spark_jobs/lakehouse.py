"""Reading and writing the Delta tables: the only module that writes to the lakehouse.

Every write is one Delta commit that replaces the rows of one key range (`replaceWhere`),
so re-running a materialisation replaces what it wrote before instead of appending it
again, and a crash mid-write leaves the previous version in place. A write that loses a
race to another writer is retried when that is correct (`spark_jobs.write_conflicts`).
"""

from __future__ import annotations

import logging
import random
import time

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from rft.rounds.round_plan import check_round
from spark_jobs import fault_injection
from spark_jobs.disk_full import DiskFullError, disk_full_message, is_disk_full
from spark_jobs.schemas import ALL_TABLES, DATABASE, TABLE_PROPERTIES, TABLES, Table
from spark_jobs.seed_migration import fill_missing_seeds
from spark_jobs.sql_types import arrow_type, sql_type_name
from spark_jobs.write_conflicts import (ConcurrentWriteError, conflict_class, fingerprint, is_retryable,
                                       read_rows_changed, schema_changed)

log = logging.getLogger(__name__)

PROPERTIES_MARKER = "rft.table_properties"  # database property: TABLE_PROPERTIES are set on every table
CONFLICT_ATTEMPTS = 6  # a write and up to 5 retries, 1 + 2 + 4 + 8 + 16 s apart (with jitter)


def sql_literal(value: str) -> str:
    """A string as a Spark SQL literal; keys come from config and model names, never trusted."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def where_equals(**columns: str) -> str:
    return " AND ".join(f"{name} = {sql_literal(value)}" for name, value in columns.items())


def where_round(round_: int) -> str:
    """The rows of one round; rows written before rounds have a null round, which is 0."""
    return f"coalesce(round, 0) = {check_round(round_)}"


def where_model_round(model: str, round_: int) -> str:
    """One model's rows of one round."""
    return f"{where_equals(model=model)} AND {where_round(round_)}"


def where_in(column: str, values: list[str]) -> str:
    if not values:
        return "false"
    return f"{column} IN ({', '.join(sql_literal(v) for v in values)})"


def new_element_fields(table: Table, stored: StructType) -> list[tuple[str, str, str]]:
    """(column, field, SQL type) of each field that `table` declares in an array-of-structs column
    and the stored table lacks, e.g. `round` in distinct_paths.producers."""
    new = []
    for name, sql_type, _ in table.columns:
        declared = arrow_type(sql_type)
        if name not in stored.fieldNames() or not (pa.types.is_list(declared) and pa.types.is_struct(declared.value_type)):
            continue
        have = stored[name].dataType.elementType.fieldNames()
        new += [(name, field.name, sql_type_name(field.type)) for field in declared.value_type if field.name not in have]
    return new


class Lakehouse:
    """The `rft` database on one SparkSession (a Spark Connect client in practice)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

    def ensure_tables(self) -> None:
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        existing = {row.tableName for row in self.spark.sql(f"SHOW TABLES IN {DATABASE}").collect()}
        for table in ALL_TABLES:
            if table.name not in existing:
                self.spark.sql(table.create_sql())
            else:
                self._add_new_columns(table)
        fill_missing_seeds(self.spark)  # seeds are in the keys: rows from before them get theirs
        self._set_properties(existing)

    def _add_new_columns(self, table: Table) -> None:
        """Columns, and fields of arrays of structs, added to a schema after a warehouse was created.

        Old rows read them as null; no row is rewritten (Delta changes only the table's schema).
        """
        stored = self.spark.table(table.qualified).schema
        added = [f"{name} {sql_type} COMMENT {sql_literal(doc)}"
                 for name, sql_type, doc in table.columns if name not in stored.fieldNames()]
        added += [f"{name}.element.{field} {field_type}" for name, field, field_type in new_element_fields(table, stored)]
        if added:
            self.spark.sql(f"ALTER TABLE {table.qualified} ADD COLUMNS ({', '.join(added)})")

    def _set_properties(self, existing: set[str]) -> None:
        """Table properties added after a warehouse was created: set once, then marked on the database."""
        marker = ";".join(f"{k}={v}" for k, v in sorted(TABLE_PROPERTIES.items()))
        described = {r.info_name: r.info_value for r in self.spark.sql(f"DESCRIBE DATABASE EXTENDED {DATABASE}").collect()}
        if f"({PROPERTIES_MARKER},{marker})" in described.get("Properties", ""):
            return
        settings = ", ".join(f"{sql_literal(k)} = {sql_literal(v)}" for k, v in TABLE_PROPERTIES.items())
        for table in ALL_TABLES:
            if table.name in existing:
                self.spark.sql(f"ALTER TABLE {table.qualified} SET TBLPROPERTIES ({settings})")
        self.spark.sql(f"ALTER DATABASE {DATABASE} SET DBPROPERTIES ({sql_literal(PROPERTIES_MARKER)} = {sql_literal(marker)})")

    def table(self, name: str, version: int | None = None) -> DataFrame:
        qualified = TABLES[name].qualified
        if version is None:
            return self.spark.table(qualified)
        return self.spark.sql(f"SELECT * FROM {qualified} VERSION AS OF {int(version)}")

    def version(self, name: str) -> int:
        history = self.spark.sql(f"DESCRIBE HISTORY {TABLES[name].qualified} LIMIT 1").collect()
        return int(history[0]["version"])

    def conform(self, table: Table, df: DataFrame) -> DataFrame:
        """Select the table's columns in order, cast to its types; a missing column is an error
        (an optional one, added to the table later, is written as null)."""
        missing = [c for c in table.required_columns if c not in df.columns]
        if missing:
            raise ValueError(f"{table.qualified}: rows lack columns {missing}")
        return df.select(*[(F.col(name) if name in df.columns else F.lit(None)).cast(sql_type).alias(name)
                           for name, sql_type, _ in table.columns])

    def replace(
        self, name: str, df: DataFrame, where: str | None = None, *, materialise: bool = False,
        read_version: int | None = None, read_where: str = "true",
    ) -> int:
        """Atomically replace the rows matching `where` (all rows when None) with `df`.

        Delta checks that every new row matches `where`, so a bug cannot write into another
        model's partition. Returns the number of rows written. `materialise=True` computes
        `df` once (a local checkpoint) before the key check and the write, for plans whose
        keys come out of an expensive step such as a UDF; otherwise both would compute it.

        A write that loses a race to another writer is evaluated and written again
        (`spark_jobs.write_conflicts`). A read-modify-write, whose rows were computed from the
        rows of this table matching `read_where` as of `read_version`, is refused instead
        (ConcurrentWriteError) once another writer has changed those rows.
        """
        table = TABLES[name]
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            if read_version is not None:
                self._check_unchanged(name, read_where, read_version)
            rows = self.conform(table, df)
            if materialise:
                rows = self._local_checkpoint(rows)
            self._check_unique(table, rows)
            try:
                self._overwrite(table, fault_injection.before_commit(name, rows), where)
                break
            except Exception as error:
                if is_disk_full(error):
                    raise DiskFullError(disk_full_message(table.qualified, error)) from error
                conflict = conflict_class(error)
                if conflict is None:
                    raise
                self._before_retry(table, conflict, attempt, error)
        fault_injection.after_commit(name)
        return self.count(name, where)

    def computed_once(self, rows: DataFrame) -> DataFrame:
        """`rows` computed now and kept (a local checkpoint): later reads reuse them, not their plan."""
        return self._local_checkpoint(rows)

    def _local_checkpoint(self, rows: DataFrame) -> DataFrame:
        """`rows.localCheckpoint()`, kept in this lakehouse's session.

        pyspark's Connect client binds a checkpoint to `SparkSession.active()`. In a process
        with several sessions (one per server, and tests' own) that may be another one, and
        the checkpoint is then looked up where it is not (DATAFRAME_NOT_FOUND).
        """
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        if not isinstance(self.spark, ConnectSession):
            return rows.localCheckpoint(eager=True)
        active = ConnectSession._active_session
        previous = getattr(active, "session", None)
        active.session = self.spark
        try:
            return rows.localCheckpoint(eager=True)
        finally:
            active.session = previous

    def _overwrite(self, table: Table, rows: DataFrame, where: str | None) -> None:
        writer = rows.write.format("delta").mode("overwrite")
        if where is not None:
            writer = writer.option("replaceWhere", where)
        writer.saveAsTable(table.qualified)

    def _check_unchanged(self, name: str, read_where: str, read_version: int) -> None:
        latest = self.version(name)
        if latest == read_version:
            return
        then, now = (fingerprint(self.table(name, v).filter(read_where)) for v in (read_version, latest))
        if then != now:
            raise ConcurrentWriteError(read_rows_changed(TABLES[name].qualified, read_where, (read_version, latest)))

    def _before_retry(self, table: Table, conflict: str, attempt: int, error: Exception) -> None:
        if not is_retryable(conflict):
            raise ConcurrentWriteError(schema_changed(table.qualified, conflict)) from error
        if attempt == CONFLICT_ATTEMPTS:
            raise ConcurrentWriteError(
                f"{table.qualified}: still losing to concurrent writers after {attempt} attempts ({conflict})"
            ) from error
        delay = 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
        log.warning("%s: Delta refused the commit (%s: another writer committed meanwhile); writing again "
                    "in %.1f s (attempt %d of %d)", table.qualified, conflict, delay, attempt + 1, CONFLICT_ATTEMPTS)
        time.sleep(delay)

    def _check_unique(self, table: Table, rows: DataFrame) -> None:
        duplicated = rows.groupBy(*table.key).count().filter("count > 1").limit(3).collect()
        if duplicated:
            keys = [tuple(row[k] for k in table.key) for row in duplicated]
            raise ValueError(f"{table.qualified}: duplicate keys {table.key} in the rows to write, e.g. {keys}")

    def count(self, name: str, where: str | None = None) -> int:
        df = self.table(name)
        return df.filter(where).count() if where else df.count()

    def read_parquet(self, path: str) -> DataFrame:
        """Files written by a GPU step; the Spark server reads them from the shared filesystem."""
        return self.spark.read.parquet(str(path))


def to_pandas(df: DataFrame):
    """`toPandas()` without the Spark Connect plan metrics it leaves in `attrs` (not serialisable)."""
    pdf = df.toPandas()
    pdf.attrs = {}
    return pdf


def export_parquet(df: DataFrame, path) -> int:
    """A small table as one local Parquet file, the input format of external (GPU) steps."""
    pdf = to_pandas(df)
    pdf.to_parquet(path, index=False)
    return len(pdf)
