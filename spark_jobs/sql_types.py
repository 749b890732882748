"""Spark SQL type names, as spark_jobs/schemas.py writes a column's type, read as Arrow types.

    arrow_type("BIGINT")                                         # int64
    arrow_type("ARRAY<STRUCT<model: STRING, sample_idx: INT>>")  # list<struct<model: string, sample_idx: int32>>

So the Arrow side of a table (what an Arrow UDF returns, a staged Parquet file) is derived from its
one schema instead of written again.
"""

from __future__ import annotations

import re

import pyarrow as pa

# Spark SQL types as Spark converts them to Arrow (pyspark.sql.pandas.types.to_arrow_type).
ARROW_TYPES = {
    "STRING": pa.string(), "INT": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[<>,:])")


def arrow_type(sql_type: str) -> pa.DataType:
    """A column's Spark SQL type -> its Arrow type; a type not listed here is a clear error."""
    tokens, at = [], 0
    while at < len(sql_type.rstrip()):
        match = _TOKEN.match(sql_type, at)
        if not match:
            raise ValueError(f"cannot read Spark SQL type {sql_type!r} at {sql_type[at:]!r}")
        tokens.append(match.group(1))
        at = match.end()
    parsed = _read_type(tokens, sql_type)
    if tokens:
        raise ValueError(f"cannot read Spark SQL type {sql_type!r}: {' '.join(tokens)!r} left over")
    return parsed


def _take(tokens: list[str], sql_type: str, expected: str | None = None) -> str:
    if not tokens or (expected is not None and tokens[0] != expected):
        found = tokens[0] if tokens else "the end"
        raise ValueError(f"cannot read Spark SQL type {sql_type!r}: expected {expected or 'a type'}, found {found!r}")
    return tokens.pop(0)


def _read_type(tokens: list[str], sql_type: str) -> pa.DataType:
    word = _take(tokens, sql_type).upper()
    if word in ARROW_TYPES:
        return ARROW_TYPES[word]
    if word not in ("ARRAY", "MAP", "STRUCT"):
        raise ValueError(f"no Arrow type for the Spark SQL type {word} (in {sql_type!r})")
    _take(tokens, sql_type, "<")
    if word == "ARRAY":
        parsed = pa.list_(_read_type(tokens, sql_type))
    elif word == "MAP":
        key = _read_type(tokens, sql_type)
        _take(tokens, sql_type, ",")
        parsed = pa.map_(key, _read_type(tokens, sql_type))
    else:
        fields = [_read_field(tokens, sql_type)]
        while tokens[:1] == [","]:
            tokens.pop(0)
            fields.append(_read_field(tokens, sql_type))
        parsed = pa.struct(fields)
    _take(tokens, sql_type, ">")
    return parsed


def sql_type_name(arrow: pa.DataType) -> str:
    """An Arrow type of ARROW_TYPES back to its Spark SQL name (for ALTER TABLE ... ADD COLUMNS)."""
    for name, known in ARROW_TYPES.items():
        if arrow == known:
            return name
    raise ValueError(f"no Spark SQL name for the Arrow type {arrow}")


def _read_field(tokens: list[str], sql_type: str) -> pa.Field:
    name = _take(tokens, sql_type)
    _take(tokens, sql_type, ":")
    return pa.field(name, _read_type(tokens, sql_type))
