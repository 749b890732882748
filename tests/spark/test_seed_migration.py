"""A warehouse written before training seeds keeps every row, and each row gets its seed."""

import json
from dataclasses import replace

from spark_jobs.lakehouse import where_equals
from spark_jobs.schemas import EVAL_RESULTS, MODELS

NEW_MODEL_COLUMNS = ("seed", "n_tokens", "round")
NEW_EVAL_COLUMNS = ("seed", "n_steps", "n_tokens", "grades", "scoring", "round")


def old_schema(table, new_columns):
    """The table as it was created before the seed columns (same name, key without seed)."""
    columns = tuple(c for c in table.columns if c[0] not in new_columns)
    return replace(table, columns=columns, key=tuple(k for k in table.key if k != "seed"))


def old_checkpoint(stage, training_set, seed):
    config = json.dumps({"epochs": 3, "seed": seed} if seed is not None else {"epochs": 3})
    return ("m", stage, training_set, f"/ck/{stage}-{training_set}", "tiny", "full", 10, 7, 1.5, 100.0, 2.0,
            config, "{}", "run-old")


def old_evaluation(stage, training_set):
    return ("m", stage, training_set, "maj1@1", 4, 2, 0.5, 0.15, 0.85, f"/ck/{stage}-{training_set}", "run-old")


def test_old_rows_get_their_recorded_seed_and_nothing_is_lost(lake, spark):
    old_models, old_evals = old_schema(MODELS, NEW_MODEL_COLUMNS), old_schema(EVAL_RESULTS, NEW_EVAL_COLUMNS)
    for table in (old_models, old_evals):
        spark.sql(f"DROP TABLE IF EXISTS {table.qualified}")
        spark.sql(table.create_sql())
    spark.createDataFrame([old_checkpoint("sft", "sft", 7), old_checkpoint("rft", "union", None)],
                          old_models.schema).write.format("delta").mode("append").saveAsTable(MODELS.qualified)
    spark.createDataFrame([old_evaluation("sft", "sft"), old_evaluation("rft", "union"), old_evaluation("rft", "gone")],
                          old_evals.schema).write.format("delta").mode("append").saveAsTable(EVAL_RESULTS.qualified)

    lake.ensure_tables()

    models = {(r.stage, r.seed) for r in lake.table("models").collect()}
    assert models == {("sft", 7), ("rft", 42)}  # recorded in train_config, else TrainConfig's default
    evals = {(r.training_set, r.seed, r.n_steps) for r in lake.table("eval_results").collect()}
    # From the checkpoint evaluated; an evaluation whose checkpoint row is gone gets the default seed.
    assert evals == {("sft", 7, 7), ("union", 42, 7), ("gone", 42, None)}

    # Seeds are in the key now: writing seed 43 of a checkpoint leaves seed 7's row alone.
    row = spark.createDataFrame([(*old_checkpoint("sft", "sft", 43), 43, 1000)], MODELS.required_schema)
    lake.replace("models", row, where_equals(model="m", stage="sft", training_set="sft", seed="43"))
    assert sorted(r.seed for r in lake.table("models").filter("stage = 'sft'").collect()) == [7, 43]

    lake.ensure_tables()  # a second start finds nothing to fill and changes nothing
    assert lake.table("models").count() == 3 and lake.table("eval_results").count() == 3
