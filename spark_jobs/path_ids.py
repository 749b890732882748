"""Path ids: the key of `rft.sampled_paths`, computed the same way by every writer.

A path is one model's sample `sample_idx` for one question, so its id is the sha1 of
`model|question_id|sample_idx`: sampling again, or importing the same generations again,
gives the same ids and replaces rows instead of adding them.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def path_id(model: Column, question_id: Column, sample_idx: Column, round_: Column | None = None) -> Column:
    """sha1 of `rft.rounds.round_plan.path_key`: round 0 (or no round) keeps the one-round key."""
    key = F.concat_ws("|", model, question_id, sample_idx.cast("string"))
    if round_ is None:
        return F.sha1(key)
    return F.sha1(F.when(round_ == 0, key).otherwise(F.concat(key, F.lit("|r"), round_.cast("string"))))


def with_path_ids(samples: DataFrame, model: str, temperature: float, backend: str, run_id: str,
                  round_: int = 0) -> DataFrame:
    """Sampling step output (question_id, sample_idx, seed, text, n_new_tokens, finish_reason)
    -> rows of `rft.sampled_paths`. Output of a step from before the last two columns lacks them;
    the table's optional columns are written as null then (`Lakehouse.conform`)."""
    return samples.select(
        path_id(F.lit(model), F.col("question_id"), F.col("sample_idx"), F.lit(round_)).alias("path_id"),
        F.lit(model).alias("model"), "question_id", "sample_idx", "seed",
        F.lit(float(temperature)).alias("temperature"), "text",
        F.lit(backend).alias("backend"), F.lit(run_id).alias("run_id"),
        *[name for name in ("n_new_tokens", "finish_reason") if name in samples.columns],
        F.lit(round_).alias("round"),
    )
