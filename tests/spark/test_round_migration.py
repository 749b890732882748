"""A warehouse written before rounds keeps every distinct path; producers gain their round."""

from dataclasses import replace

from spark_jobs.schemas import DISTINCT_PATHS

OLD_PRODUCERS = "ARRAY<STRUCT<model: STRING, path_id: STRING, sample_idx: INT>>"


def before_rounds():
    """rft.distinct_paths as it was created before rounds: no `round`, producers without theirs."""
    columns = tuple((name, OLD_PRODUCERS if name == "producers" else sql_type, doc)
                    for name, sql_type, doc in DISTINCT_PATHS.columns if name != "round")
    return replace(DISTINCT_PATHS, columns=columns, optional=())


def test_old_distinct_paths_read_as_round_zero_and_nothing_is_rewritten(lake, spark):
    old = before_rounds()
    saved = lake.table("distinct_paths").collect()
    spark.sql(f"DROP TABLE IF EXISTS {old.qualified}")
    spark.sql(old.create_sql())
    try:
        row = ("union", "q1", "3*4=12", "p1", "a", "3*4 is 12", 0, 2, ["a", "b"],
               [("a", "p1", 0), ("b", "p2", 1)], "v1")
        spark.createDataFrame([row], old.schema).write.format("delta").mode("append").saveAsTable(old.qualified)
        version = lake.version("distinct_paths")

        lake.ensure_tables()

        stored = lake.table("distinct_paths")
        assert "round" in stored.columns
        assert stored.schema["producers"].dataType.elementType.fieldNames() == ["model", "path_id", "sample_idx", "round"]
        got = stored.collect()
        assert len(got) == 1 and got[0]["round"] is None
        assert [(p.model, p.sample_idx, p["round"]) for p in got[0].producers] == [("a", 0, None), ("b", 1, None)]
        # only the schema changed: the one commit since is the ALTER TABLE, no data file rewritten
        history = spark.sql(f"DESCRIBE HISTORY {old.qualified}").filter(f"version > {version}").collect()
        assert [h.operation for h in history] == ["ADD COLUMNS"]
        lake.ensure_tables()  # a second start finds nothing to add
        assert lake.version("distinct_paths") == version + 1
    finally:  # the session's table, as the other tests left it
        spark.sql(f"DROP TABLE IF EXISTS {old.qualified}")
        lake.ensure_tables()
        if saved:
            spark.createDataFrame(saved, DISTINCT_PATHS.schema).write.format("delta").mode("append") \
                .saveAsTable(DISTINCT_PATHS.qualified)
