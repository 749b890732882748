"""RFT in rounds, per (model, round): what the round's samples solved, the new distinct paths of its
own pool, and its RFT accuracy beside its step-matched control. The dbt mart round_progress
says the same in SQL for SQL users; `rft rounds list` and the round assets' metadata use this.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from rft.evaluation.arms import RFT, SFT_MATCHED
from spark_jobs.run_results import GREEDY



def round_or_zero():
    """The round column; null (rows written before rounds) is round 0. Built per call: a Column
    needs a session to exist."""
    return F.coalesce(F.col("round"), F.lit(0))


def own_pool_model():
    return F.regexp_replace(F.substring(F.col("pool"), 5, 10_000), "@r[0-9]+$", "")


def round_progress(verified: DataFrame, distinct: DataFrame, evals: DataFrame) -> DataFrame:
    """Rows of rft.verified_paths, rft.distinct_paths and rft.eval_results -> one row per (model, round)."""
    solved = verified.withColumn("round", round_or_zero()).groupBy("model", "round").agg(
        F.count("*").alias("sampled"), F.count_if(F.col("is_correct")).alias("correct"),
        F.countDistinct("question_id").alias("questions"),
        F.countDistinct(F.when(F.col("is_correct"), F.col("question_id"))).alias("solved"),
    ).withColumn("share_solved", F.col("solved") / F.col("questions"))
    own = distinct.filter(F.col("pool").startswith("own:")).select(
        own_pool_model().alias("model"), round_or_zero().alias("round"), "question_id", "equation_list")
    previous = own.select("model", (F.col("round") + 1).alias("round"), "question_id", "equation_list",
                          F.lit(True).alias("seen_before"))
    pools = own.join(previous, on=["model", "round", "question_id", "equation_list"], how="left").groupBy(
        "model", "round").agg(F.count("*").alias("distinct"),
                              F.count_if(F.col("seen_before").isNull()).alias("new_distinct"))
    greedy = evals.filter((F.col("metric") == GREEDY) & F.col("training_set").startswith("own:")) \
        .withColumn("round", round_or_zero())
    arms = greedy.groupBy("model", "round", "stage").agg(
        F.count("*").alias("seeds"), F.avg("accuracy").alias("accuracy"), F.stddev_samp("accuracy").alias("sd"),
        F.when(F.count("*") == 1, F.min("ci_low")).alias("ci_low"),
        F.when(F.count("*") == 1, F.min("ci_high")).alias("ci_high"))
    rft = arms.filter(F.col("stage") == RFT).select(
        "model", "round", "seeds", F.col("accuracy").alias("rft_accuracy"), F.col("sd").alias("rft_sd"),
        F.col("ci_low").alias("rft_ci_low"), F.col("ci_high").alias("rft_ci_high"))
    matched = arms.filter(F.col("stage") == SFT_MATCHED).select(
        "model", "round", F.col("accuracy").alias("matched_accuracy"))
    by_model = Window.partitionBy("model").orderBy("round")
    return (solved.join(pools, on=["model", "round"], how="left").join(rft, on=["model", "round"], how="left")
            .join(matched, on=["model", "round"], how="left")
            .withColumn("gain_vs_matched", F.col("rft_accuracy") - F.col("matched_accuracy"))
            .withColumn("gain_vs_previous_round", F.col("rft_accuracy") - F.lag("rft_accuracy").over(by_model))
            .orderBy("model", "round"))
