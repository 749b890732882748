"""What a run produced, as small DataFrames for plots and reports: counts, pass@k, accuracy.

Each function takes the lakehouse tables it needs and returns one small DataFrame (one row per
model, per (model, question) or per checkpoint), so callers decide which Delta version to read.

    counts, pools = funnel_counts(lake.table("verified_paths"), lake.table("distinct_paths"))
    funnel_table(counts, pools)   # rft.reporting.result_tables: the table people read
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.lakehouse import to_pandas

GREEDY = "maj1@1"


def first_correct_samples(verified: DataFrame) -> DataFrame:
    """One row per (model, question): samples drawn and the first correct sample index (null: none)."""
    return verified.groupBy("model", "question_id").agg(
        (F.max("sample_idx") + 1).alias("n_samples"),
        F.min(F.when(F.col("is_correct"), F.col("sample_idx"))).alias("first_correct_idx"),
    )


def path_counts(verified: DataFrame) -> DataFrame:
    """One row per model: paths sampled (verified) and correct."""
    return verified.groupBy("model").agg(
        F.count("*").alias("sampled"), F.sum(F.col("is_correct").cast("long")).alias("correct")
    ).orderBy("model")


def pool_sizes(distinct: DataFrame) -> DataFrame:
    """One row per distinct-paths pool (own:<model>, union): its distinct paths."""
    return distinct.groupBy("pool").agg(F.count("*").alias("distinct")).orderBy("pool")


def funnel_counts(verified: DataFrame, distinct: DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paths funnel: per model paths sampled and correct (`path_counts`), per pool distinct (`pool_sizes`).

    The one place the funnel is counted; `rft.reporting.result_tables.funnel_table` lays it out.
    Python owns it, not the dbt marts: `rft run`, `rft backfill` and `rft import` print it as
    soon as the Spark jobs are done, with `--no-marts` too and before any dbt build, and
    `rft report` counts the tables at the Delta versions it names. The mart
    distinct_paths_per_question restates these counts in SQL for SQL users (its n_sampled
    counts rft.sampled_paths, equal once every path is verified); tests/dagster/test_dbt_marts.py
    checks the two agree.
    """
    return to_pandas(path_counts(verified)), to_pandas(pool_sizes(distinct))


def accuracy_by_training_paths(eval_results: DataFrame, models: DataFrame) -> DataFrame:
    """Greedy accuracy of every checkpoint (every seed) with the distinct RFT paths it was trained on (0 for SFT).

    The path count comes from the checkpoint's own data manifest (rft.models), so a set that
    grew after a model was trained does not move that model's point. `x_paths` is where a plot
    puts it: its distinct paths, or for a step-matched SFT control (trained on none) those of
    the RFT checkpoint it matches, so each control stands beside its RFT point.
    """
    keys = ["model", "stage", "training_set", "seed"]
    trained = models.select(
        *keys, F.get_json_object("data_manifest", "$.rft_rows").cast("long").alias("rft_paths"),
    )
    matched = models.filter(F.col("stage") == "rft").select(
        "model", "training_set", "seed", F.lit("sft_matched").alias("stage"),
        F.get_json_object("data_manifest", "$.rft_rows").cast("long").alias("matched_paths"),
    )
    distinct = F.coalesce("rft_paths", F.lit(0))
    return (
        eval_results.filter(F.col("metric") == GREEDY)
        .join(trained, on=keys, how="left")
        .join(matched, on=keys, how="left")
        .select(
            *keys, distinct.alias("distinct_paths"), F.coalesce("matched_paths", distinct).alias("x_paths"),
            "n_test", "n_correct", "accuracy", "ci_low", "ci_high", "n_steps", "n_tokens", "grades",
        )
        .orderBy("model", "distinct_paths", "training_set", "stage", "seed")
    )


def greedy_evaluations(eval_results: DataFrame) -> DataFrame:
    """The greedy evaluations, one row per (model, stage, training_set, seed), with steps, tokens and grades."""
    return eval_results.filter(F.col("metric") == GREEDY).select(
        "model", "stage", "training_set", "seed", "n_test", "n_correct", "accuracy", "ci_low", "ci_high",
        "n_steps", "n_tokens", "grades",
    ).orderBy("model", "stage", "training_set", "seed")


def verdict_summary(verified: DataFrame, model: str, top: int = 10) -> dict:
    """One model's paths, its correct ones (`path_counts`) and its `top` reject reasons (the part before ':')."""
    own = verified.filter(F.col("model") == model)
    counts = path_counts(own).collect()  # its one row, or none
    sampled, correct = (counts[0]["sampled"], counts[0]["correct"] or 0) if counts else (0, 0)
    reasons = (
        own.filter(~F.col("is_correct")).withColumn("reason", F.split("reject_reason", ":").getItem(0))
        .groupBy("reason").count().orderBy(F.desc("count")).limit(top).collect()
    )
    return {"n": int(sampled), "correct": int(correct), "reject_reasons": {r["reason"]: r["count"] for r in reasons}}
