"""The accuracies the evaluation-based studies reuse, read from the tables the pipeline fills.

    stage_accuracies(eval_results)                     # per model: SFT and RFT (own paths), greedy
    rft_set_evaluations(eval_results, models, model)   # one model's RFT on own and on union, with checkpoints

Like the accuracy_leaderboard mart: greedy maj1@1 rows of `rft.eval_results`, joined with the
checkpoint rows of `rft.models` on (model, stage, training_set, seed). Nothing is trained or
evaluated again. With several training seeds these studies read each arm's first seed: the
checkpoint RFT sampled from, and one cell per arm as before.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from rft.filter.pools import OWN_PREFIX, UNION_POOL

GREEDY = "maj1@1"
ACCURACY = ["n_test", "n_correct", "accuracy", "ci_low", "ci_high"]


def first_seed(evals: DataFrame) -> DataFrame:
    """Each (model, stage, training_set, metric)'s evaluation of its lowest training seed."""
    arm = Window.partitionBy("model", "stage", "training_set", "metric")
    return evals.withColumn("_first", F.min("seed").over(arm)).filter(F.col("seed") == F.col("_first")).drop("_first")


def own_set() -> F.Column:
    return F.concat(F.lit(OWN_PREFIX), F.col("model"))


def stage_accuracies(eval_results: DataFrame) -> DataFrame:
    """One row per (model, stage): SFT on the gold data, RFT on the model's own distinct paths."""
    greedy = first_seed(eval_results.filter(F.col("metric") == GREEDY))
    sft = (F.col("stage") == "sft") & (F.col("training_set") == "sft")
    rft_own = (F.col("stage") == "rft") & (F.col("training_set") == own_set())
    return greedy.filter(sft | rft_own).select("model", "stage", *ACCURACY)


def rft_set_evaluations(eval_results: DataFrame, models: DataFrame, model: str) -> DataFrame:
    """The model's RFT evaluations on its own set and on the union, each with its checkpoint's row.

    Columns: arm (own or union), training_set, the accuracy columns, the evaluated checkpoint,
    the evaluation's run, and the checkpoint's recorded checkpoint, size, config and data
    manifest (null where rft.models lacks it).
    """
    evals = first_seed(eval_results).filter(
        (F.col("model") == model) & (F.col("stage") == "rft") & (F.col("metric") == GREEDY)
        & ((F.col("training_set") == own_set()) | (F.col("training_set") == UNION_POOL))
    )
    trained = models.select(
        "model", "stage", "training_set", "seed", F.col("checkpoint").alias("trained_checkpoint"), "n_examples",
        F.col("n_steps").alias("trained_n_steps"), "train_config", "data_manifest",
    )
    joined = evals.drop("n_steps").join(trained, on=["model", "stage", "training_set", "seed"], how="left")
    arm = F.when(F.col("training_set") == UNION_POOL, F.lit("union")).otherwise(F.lit("own"))
    return joined.select(
        arm.alias("arm"), "training_set", *ACCURACY, "checkpoint", F.col("run_id").alias("eval_run_id"),
        "trained_checkpoint", "n_examples", F.col("trained_n_steps").alias("n_steps"), "train_config", "data_manifest",
    )
