"""The same dedup rule with Spark built-ins only (`levenshtein` over a join with the anchors).

Kept as the benchmark's comparison for `spark_jobs.distinct_paths`, which computes the distances in a
grouped Arrow UDF with a bit-parallel Levenshtein: Spark's `levenshtein` is the plain dynamic
programme, and the join materialises one row per (path, other group's anchor).
"""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from rft.filter.pools import OWN_PREFIX, UNION_POOL
from rft.filter.path_verdict import FILTER_VERSION


def with_pools(correct: DataFrame) -> DataFrame:
    """Each correct path twice: once in its model's own pool, once in the union pool."""
    own = correct.withColumn("pool", F.concat(F.lit(OWN_PREFIX), F.col("model")))
    union = correct.withColumn("pool", F.lit(UNION_POOL))
    return own.unionByName(union)


def with_diversity_scores(paths: DataFrame) -> DataFrame:
    group = ["pool", "question_id", "equation_list"]
    anchors = (
        paths.groupBy(*group)
        .agg(F.min(F.struct("path_id", "text")).alias("anchor"))
        .select(
            "pool", "question_id",
            F.col("equation_list").alias("anchor_equation_list"),
            F.col("anchor.text").alias("anchor_text"),
        )
    )
    pairs = paths.join(anchors, on=["pool", "question_id"], how="left").filter(
        F.col("anchor_equation_list") != F.col("equation_list")
    )
    scores = pairs.groupBy("pool", "path_id").agg(
        F.sum(F.levenshtein("text", "anchor_text")).cast("bigint").alias("diversity_score")
    )
    return paths.join(scores, on=["pool", "path_id"], how="left").withColumn(
        "diversity_score", F.coalesce(F.col("diversity_score"), F.lit(0).cast("bigint"))
    )


def select_representatives(scored: DataFrame) -> DataFrame:
    group = ["pool", "question_id", "equation_list"]
    best_first = Window.partitionBy(*group).orderBy(F.col("diversity_score").desc(), F.col("path_id").asc())
    producers = scored.groupBy(*group).agg(
        F.count("*").cast("int").alias("n_producers"),
        F.array_sort(F.collect_set("model")).alias("producer_models"),
        F.array_sort(F.collect_list(F.struct("model", "path_id", "sample_idx", "round"))).alias("producers"),
    )
    best = scored.withColumn("rank", F.row_number().over(best_first)).filter("rank = 1")
    return best.join(producers, on=group, how="inner").select(
        "pool", "question_id", "equation_list", "path_id", "model", "text", "diversity_score",
        "n_producers", "producer_models", "producers", F.lit(FILTER_VERSION).alias("filter_version"),
        F.lit(0).alias("round"),  # one round's paths: its pools are round 0's names
    )


def distinct_paths_builtin(verified: DataFrame) -> DataFrame:
    """Rows of `rft.verified_paths` -> rows of `rft.distinct_paths`, with Spark built-ins only."""
    # Each producer's round, as the Arrow version lists it (rows from before rounds: 0).
    paths_round = F.coalesce(F.col("round"), F.lit(0)) if "round" in verified.columns else F.lit(0)
    correct = verified.filter(F.col("is_correct")).select(
        "path_id", "model", "question_id", "sample_idx", "equation_list", "text", paths_round.cast("int").alias("round")
    )
    return (
        correct
        .transform(with_pools)
        .transform(with_diversity_scores)
        .transform(select_representatives)
    )
