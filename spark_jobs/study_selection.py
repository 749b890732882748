"""The RFT-vs-diversity study's training paths: the same number of paths, chosen three ways.

    distinct = first_k_distinct_paths(verified, model, k)             # the pipeline's dedup (spark_jobs.study_datasets)
    correct = own_correct_paths(verified, model)
    n = paths_per_selection(requested, distinct.count())
    paths = select_paths("duplicates", distinct=distinct, correct=correct, n=n, seed=0, duplicate_share=0.25)

- distinct: n of the model's distinct paths (one per question and equation list);
- all_correct: n of its correct paths as sampled, so a reasoning the model repeats is repeated;
- duplicates (the control): a few distinct paths, each repeated until there are n.

Every choice takes paths in one seeded order, the sha256 of "seed:path_id", so the rows do not
depend on the input's order or partitioning (distinct and all_correct at a smaller n are part
of what a larger n takes).
Nothing is sampled again: the inputs are rows of `rft.verified_paths`.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

DISTINCT, ALL_CORRECT, DUPLICATES = "distinct", "all_correct", "duplicates"
COLUMNS = ["question_id", "path_id", "equation_list", "text", "copy"]


def own_correct_paths(verified: DataFrame, model: str) -> DataFrame:
    """Every correct path of one model, with its equation list and text (no dedup)."""
    correct = verified.filter((F.col("model") == model) & F.col("is_correct"))
    return correct.select("question_id", "path_id", "equation_list", "text")


def paths_per_selection(requested: int | None, n_distinct: int) -> int:
    """Paths in every cell: the request capped at the distinct paths there are (None: all of them)."""
    return n_distinct if requested is None else min(requested, n_distinct)


def duplicate_sources(n: int, share: float) -> int:
    """Distinct paths the duplicates control repeats: `share` of n, rounded up, at least one."""
    if n == 0:
        return 0
    # round() first: 0.1 * 30 is 3.0000000000000004 in floating point, and must stay 3.
    return max(1, math.ceil(round(share * n, 9)))


def with_selection_order(paths: DataFrame, seed: int) -> DataFrame:
    """Paths with `selection_order`, a seeded key of the path id alone."""
    return paths.withColumn("selection_order", F.sha2(F.concat_ws(":", F.lit(str(seed)), F.col("path_id")), 256))


def take_first(paths: DataFrame, n: int, seed: int) -> DataFrame:
    """The first n paths in the seeded order, each once (copy 0)."""
    ordered = with_selection_order(paths, seed).orderBy("selection_order", "path_id").limit(n)
    return ordered.withColumn("copy", F.lit(0)).select(*COLUMNS)


def repeat_first(paths: DataFrame, n: int, seed: int, sources: int) -> DataFrame:
    """n rows made of the first `sources` paths in the seeded order, each repeated in turn.

    Copy c of every source comes before copy c + 1 of any, so each source appears n // sources
    or one more times.
    """
    if n == 0 or sources == 0:
        return take_first(paths, 0, seed)
    first = with_selection_order(paths, seed).orderBy("selection_order", "path_id").limit(sources)
    copies = first.withColumn("copy", F.explode(F.sequence(F.lit(0), F.lit(math.ceil(n / sources) - 1))))
    return copies.orderBy("copy", "selection_order", "path_id").limit(n).select(*COLUMNS)


def select_paths(
    selection: str, *, distinct: DataFrame, correct: DataFrame, n: int, seed: int, duplicate_share: float,
) -> DataFrame:
    """The n training paths of one selection: question_id, path_id, equation_list, text, copy."""
    if selection == DISTINCT:
        return take_first(distinct.select("question_id", "path_id", "equation_list", "text"), n, seed)
    if selection == ALL_CORRECT:
        return take_first(correct, n, seed)
    if selection == DUPLICATES:
        sources = distinct.select("question_id", "path_id", "equation_list", "text")
        return repeat_first(sources, n, seed, duplicate_sources(n, duplicate_share))
    raise ValueError(f"unknown selection {selection!r}: use {DISTINCT}, {ALL_CORRECT} or {DUPLICATES}")
