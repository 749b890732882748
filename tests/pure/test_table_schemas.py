"""Table schemas are written once (spark_jobs/schemas.py); DDL and Arrow types are derived from them."""

import pyarrow as pa
import pytest

from spark_jobs.schemas import ALL_TABLES, DISTINCT_PATHS, SAMPLED_PATHS, VERIFIED_PATHS
from spark_jobs.sql_types import arrow_type
from spark_jobs.verified_paths import VERDICT_ARROW, VERDICT_TYPE


def test_spark_sql_types_become_the_arrow_types_spark_hands_to_udfs():
    assert arrow_type("BIGINT") == pa.int64()
    assert arrow_type("ARRAY<STRUCT<model: STRING, sample_idx: INT>>") == pa.list_(
        pa.struct([("model", pa.string()), ("sample_idx", pa.int32())]))
    assert arrow_type("MAP<STRING, BIGINT>") == pa.map_(pa.string(), pa.int64())


def test_every_column_of_every_table_has_an_arrow_type():
    for table in ALL_TABLES:
        assert table.arrow_schema().names == table.column_names


def test_a_type_that_is_not_written_here_is_a_clear_error():
    with pytest.raises(ValueError, match="no Arrow type for the Spark SQL type FLOAT"):
        arrow_type("FLOAT")
    with pytest.raises(ValueError, match="expected >"):
        arrow_type("ARRAY<STRING")
    with pytest.raises(ValueError, match="expected :"):
        arrow_type("STRUCT<model STRING>")


def test_a_selection_of_columns_keeps_their_order_and_refuses_unknown_names():
    assert SAMPLED_PATHS.ddl(["text", "sample_idx"]) == "text STRING, sample_idx INT"
    assert SAMPLED_PATHS.arrow_schema(["seed", "model"]) == pa.schema([("seed", pa.int64()), ("model", pa.string())])
    with pytest.raises(KeyError, match="rft.sampled_paths has no column score"):
        SAMPLED_PATHS.ddl(["model", "score"])
    assert DISTINCT_PATHS.schema == DISTINCT_PATHS.ddl()


def test_the_verdict_udf_returns_columns_of_verified_paths_with_their_types():
    names = [field.name for field in VERDICT_TYPE.fields]
    assert names == ["is_correct", "answer", "equation_list", "n_equations", "reject_reason"]
    assert pa.schema(list(VERDICT_ARROW)) == VERIFIED_PATHS.arrow_schema(names)
