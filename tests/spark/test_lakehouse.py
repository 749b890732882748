"""Writes to the lakehouse replace by key: re-running never duplicates, bugs cannot cross partitions."""

import pytest

from spark_jobs.lakehouse import where_equals
from spark_jobs.schemas import ALL_TABLES, SAMPLED_PATHS


def sampled_rows(spark, model, n):
    rows = [(f"{model}-{i}", model, f"q{i}", i, 7, 0.7, "#### 1", "test", "run") for i in range(n)]
    return spark.createDataFrame(rows, SAMPLED_PATHS.required_schema)


def test_every_table_is_registered_in_the_catalog(spark):
    tables = {row.tableName for row in spark.sql("SHOW TABLES IN rft").collect()}
    assert {t.name for t in ALL_TABLES} <= tables
    assert spark.sql("SELECT count(*) AS n FROM rft.sampled_paths").collect()[0].n >= 0


def test_rewriting_a_partition_replaces_it_and_leaves_the_others(lake, spark):
    lake.replace("sampled_paths", sampled_rows(spark, "lake-test-a", 3), where_equals(model="lake-test-a"))
    lake.replace("sampled_paths", sampled_rows(spark, "lake-test-b", 2), where_equals(model="lake-test-b"))
    version = lake.version("sampled_paths")

    lake.replace("sampled_paths", sampled_rows(spark, "lake-test-a", 3), where_equals(model="lake-test-a"))

    assert lake.count("sampled_paths", where_equals(model="lake-test-a")) == 3
    assert lake.count("sampled_paths", where_equals(model="lake-test-b")) == 2
    # Time travel still sees the version before the rewrite.
    assert lake.table("sampled_paths", version).filter("model = 'lake-test-a'").count() == 3


def test_rows_outside_the_replaced_partition_are_refused(lake, spark):
    with pytest.raises(Exception, match="(?i)replaceWhere|constraint|violat|match"):
        lake.replace("sampled_paths", sampled_rows(spark, "lake-test-c", 1), where_equals(model="lake-test-d"))
    assert lake.count("sampled_paths", where_equals(model="lake-test-c")) == 0


def test_duplicate_keys_are_refused_before_writing(lake, spark):
    rows = sampled_rows(spark, "lake-test-e", 2).unionByName(sampled_rows(spark, "lake-test-e", 1))
    with pytest.raises(ValueError, match="duplicate keys"):
        lake.replace("sampled_paths", rows, where_equals(model="lake-test-e"))


def test_a_materialised_write_computes_the_rows_once_and_writes_the_same_rows(lake, spark):
    n = lake.replace("sampled_paths", sampled_rows(spark, "lake-test-m", 4), where_equals(model="lake-test-m"),
                     materialise=True)
    assert n == 4
    assert lake.count("sampled_paths", where_equals(model="lake-test-m")) == 4


def test_a_materialised_write_works_while_another_session_is_the_active_one(lake, spark, spark_resource):
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    other = ConnectSession.builder.remote(spark_resource.server_config().url).create()
    previous = getattr(ConnectSession._active_session, "session", None)
    ConnectSession._active_session.session = other  # as after another client or test made one
    try:
        n = lake.replace("sampled_paths", sampled_rows(spark, "lake-test-o", 3), where_equals(model="lake-test-o"),
                         materialise=True)
    finally:
        ConnectSession._active_session.session = previous
        other.stop()
    assert n == 3


def test_duplicate_keys_are_refused_in_a_materialised_write_too(lake, spark):
    rows = sampled_rows(spark, "lake-test-n", 2).unionByName(sampled_rows(spark, "lake-test-n", 1))
    with pytest.raises(ValueError, match="duplicate keys"):
        lake.replace("sampled_paths", rows, where_equals(model="lake-test-n"), materialise=True)


def test_a_column_added_to_a_schema_is_added_to_an_existing_table(lake, spark):
    from spark_jobs.schemas import Table

    old = Table(name="migration_example", row="r", columns=(("k", "STRING", "key"),), key=("k",))
    new = Table(name="migration_example", row="r", columns=(("k", "STRING", "key"), ("text", "STRING", "new")), key=("k",))
    spark.sql(f"DROP TABLE IF EXISTS {old.qualified}")
    spark.sql(old.create_sql())
    spark.sql(f"INSERT INTO {old.qualified} VALUES ('a')")

    lake._add_new_columns(new)

    assert [tuple(r) for r in spark.table(new.qualified).collect()] == [("a", None)]


def test_missing_columns_are_an_error(lake, spark):
    with pytest.raises(ValueError, match="lack columns"):
        lake.replace("sampled_paths", sampled_rows(spark, "x", 1).drop("seed"), where_equals(model="x"))


def test_sql_literals_cannot_break_out_of_the_predicate():
    assert where_equals(model="a' OR '1'='1") == "model = 'a\\' OR \\'1\\'=\\'1'"


def test_rewriting_round_zero_keeps_a_later_rounds_rows(lake, spark):
    from pyspark.sql import functions as F

    from spark_jobs.lakehouse import where_model_round

    model = "lake-test-rounds"
    old = sampled_rows(spark, model, 3)  # as written before rounds: no round column, read as 0
    later = sampled_rows(spark, model, 2).withColumn("path_id", F.concat("path_id", F.lit("|r1"))) \
        .withColumn("round", F.lit(1))
    lake.replace("sampled_paths", old, where_equals(model=model))
    lake.replace("sampled_paths", later, where_model_round(model, 1))

    lake.replace("sampled_paths", sampled_rows(spark, model, 3).withColumn("round", F.lit(0)),
                 where_model_round(model, 0))

    assert lake.count("sampled_paths", where_model_round(model, 0)) == 3
    assert lake.count("sampled_paths", where_model_round(model, 1)) == 2
    assert lake.count("sampled_paths", where_equals(model=model)) == 5
