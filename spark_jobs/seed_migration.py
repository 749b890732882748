"""Rows written before training seeds were recorded get theirs, so seeds can be part of the keys.

`rft.models` and `rft.eval_results` gained a `seed` column (and the steps and tokens of
training); `ensure_tables` adds such columns as null. A null in a key column would make those
rows unreachable by the key-range writes, so each old checkpoint's seed is filled from the
train_config JSON it was recorded with (the TrainConfig default when that lacks one), and each
old evaluation's seed, steps and tokens from the checkpoint it evaluated.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from rft.config.train_config import TrainConfig
from spark_jobs.schemas import EVAL_RESULTS, MODELS

DEFAULT_SEED = TrainConfig().seed


def fill_missing_seeds(spark: SparkSession) -> None:
    """Fill null seeds of `rft.models`, then of `rft.eval_results` (from the models they evaluated)."""
    if _has_null_seed(spark, MODELS.qualified):
        spark.sql(
            f"UPDATE {MODELS.qualified} SET seed = coalesce("
            f"cast(get_json_object(train_config, '$.seed') AS INT), {DEFAULT_SEED}) WHERE seed IS NULL"
        )
    if _has_null_seed(spark, EVAL_RESULTS.qualified):
        # One row per checkpoint folder (a folder is written once), so the merge never matches twice.
        spark.sql(
            f"MERGE INTO {EVAL_RESULTS.qualified} AS e USING ("
            f"  SELECT checkpoint, first(seed) AS seed, first(n_steps) AS n_steps, first(n_tokens) AS n_tokens"
            f"  FROM {MODELS.qualified} GROUP BY checkpoint) AS m"
            f" ON e.checkpoint = m.checkpoint AND e.seed IS NULL"
            f" WHEN MATCHED THEN UPDATE SET e.seed = m.seed, e.n_steps = m.n_steps, e.n_tokens = m.n_tokens"
        )
        spark.sql(f"UPDATE {EVAL_RESULTS.qualified} SET seed = {DEFAULT_SEED} WHERE seed IS NULL")


def _has_null_seed(spark: SparkSession, table: str) -> bool:
    return bool(spark.sql(f"SELECT 1 FROM {table} WHERE seed IS NULL LIMIT 1").collect())
