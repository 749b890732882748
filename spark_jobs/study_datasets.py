"""Training sets of the scaling studies, built from tables the lakehouse already holds.

No study samples again: RFT vs k reads each question's first k samples out of one sampling
run at k=K (`rft.verified_paths`), deduplicated by the pipeline's own rule
(`spark_jobs.distinct_paths`), so a smaller k is exactly what sampling k paths would have given
(a path's text depends on its seed alone). SFT vs data takes nested fractions of the train
split in one seeded order, so each smaller set is contained in every larger one.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.filter.pools import own_pool
from spark_jobs.distinct_paths import distinct_paths

TRAIN = "train"


def filter_first_k(verified: DataFrame, model: str, k: int) -> DataFrame:
    """One model's verdicts on each question's first k samples (sample_idx < k)."""
    return verified.filter((F.col("model") == model) & (F.col("sample_idx") < k))


def sampling_mismatch(verified: DataFrame, sampled: DataFrame, model: str, sampling) -> str | None:
    """Why the model's paths are not the sampling run a study cell names (k and temperature), or None.

    A cell's id hashes the config's sampling settings; paths drawn with other settings would
    be reused under the wrong id, so they are refused.
    """
    drawn = verified.filter(F.col("model") == model).agg(F.max("sample_idx")).first()[0]
    if drawn is None or drawn + 1 != sampling.k:
        have = 0 if drawn is None else drawn + 1
        return f"rft.verified_paths holds {have} samples per question of {model!r}, sampling.k is {sampling.k}"
    temperatures = sorted(r[0] for r in sampled.filter(F.col("model") == model).select("temperature").distinct().collect())
    if temperatures != [sampling.temperature]:
        return f"{model!r} was sampled at temperature {temperatures}, sampling.temperature is {sampling.temperature}"
    return None


def first_k_distinct_paths(verified: DataFrame, model: str, k: int) -> DataFrame:
    """The model's distinct correct paths among the first k samples: one per (question, equation list)."""
    own = distinct_paths(filter_first_k(verified, model, k)).filter(F.col("pool") == own_pool(model))
    return own.select("question_id", "equation_list", "path_id", "text", "n_producers")


def with_subset_order(questions: DataFrame, seed: int) -> DataFrame:
    """Train questions with `subset_order`, a seeded sort key that does not depend on the input's order.

    The key is the sha256 of "seed:question_id", so adding questions to the split moves no
    question's place relative to another, and one seed gives one order on every engine.
    """
    order = F.sha2(F.concat_ws(":", F.lit(str(seed)), F.col("question_id")), 256)
    return questions.filter(F.col("split") == TRAIN).withColumn("subset_order", order)


def subset_size(n: int, fraction: float) -> int:
    """Questions in a fraction of n: rounded up, at least one (1/32 of 40 questions is 2)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    # round() first: 0.1 * 30 is 3.0000000000000004 in floating point, and must stay 3.
    return max(1, math.ceil(round(fraction * n, 9)))


def filter_fraction(ordered: DataFrame, fraction: float, n: int) -> DataFrame:
    """The first `fraction` of `n` ordered questions: nested, since a larger fraction has a larger cut."""
    # A top-m (sort and limit) rather than a rank column: no window over the whole split.
    return ordered.orderBy("subset_order", "question_id").limit(subset_size(n, fraction))
