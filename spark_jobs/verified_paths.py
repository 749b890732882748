"""Verification as a DataFrame transformation: sampled paths in, one verdict per path out.

The rules are in `rft.filter.path_verdict` and written down in docs/verification.md; this module applies
them with an Arrow UDF (Arrow arrays in and out, no pandas), because checking `<<lhs=rhs>>`
needs a safe arithmetic parser that no Spark built-in provides. Paths whose question is unknown are kept with a reason,
never dropped.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from rft.filter.path_verdict import FILTER_VERSION

UNKNOWN_QUESTION = "unknown_question"

# A StructType, not a DDL string: parsing DDL needs a live session at import time.
VERDICT_TYPE = T.StructType([
    T.StructField("is_correct", T.BooleanType()),
    T.StructField("answer", T.StringType()),
    T.StructField("equation_list", T.StringType()),
    T.StructField("n_equations", T.IntegerType()),
    T.StructField("reject_reason", T.StringType()),
])


def verdicts(text: pa.Array, gold_answer: pa.Array) -> pa.Array:
    from rft.filter.path_verdict import verify_path  # imported in the Python worker

    verdicts = [verify_path(t, g) for t, g in zip(text.to_pylist(), gold_answer.to_pylist())]
    return pa.StructArray.from_arrays(
        [
            pa.array([v.is_correct for v in verdicts], pa.bool_()),
            pa.array([v.answer for v in verdicts], pa.string()),
            pa.array([v.equation_list for v in verdicts], pa.string()),
            pa.array([v.n_equations for v in verdicts], pa.int32()),
            pa.array([v.reject_reason for v in verdicts], pa.string()),
        ],
        names=[f.name for f in VERDICT_TYPE.fields],
    )


def with_gold_answers(sampled: DataFrame, questions: DataFrame) -> DataFrame:
    gold = questions.select("question_id", "gold_answer")
    return sampled.join(gold, on="question_id", how="left")


def with_verdicts(paths: DataFrame) -> DataFrame:
    """Paths with `text` and `gold_answer` -> the columns of `rft.verified_paths` (text kept when correct)."""
    # Built per call, not at import: the UDF binds to the kind of session (classic or Connect) in use.
    verdict_udf = F.arrow_udf(verdicts, VERDICT_TYPE)
    verdict = verdict_udf(F.col("text"), F.coalesce(F.col("gold_answer"), F.lit("")))
    known = F.col("gold_answer").isNotNull()
    return (
        paths.withColumn("verdict", verdict)
        .select(
            "path_id", "model", "question_id", "sample_idx",
            (known & F.col("verdict.is_correct")).alias("is_correct"),
            F.col("verdict.answer").alias("answer"),
            "gold_answer",
            F.col("verdict.equation_list").alias("equation_list"),
            F.col("verdict.n_equations").alias("n_equations"),
            F.when(known, F.col("verdict.reject_reason")).otherwise(F.lit(UNKNOWN_QUESTION)).alias("reject_reason"),
            F.lit(FILTER_VERSION).alias("filter_version"),
            F.when(known & F.col("verdict.is_correct"), F.col("text")).alias("text"),
        )
    )


def verify_sampled_paths(sampled: DataFrame, questions: DataFrame) -> DataFrame:
    return sampled.transform(lambda df: with_gold_answers(df, questions)).transform(with_verdicts)


def verdict_summary(verified: DataFrame, model: str, top: int = 10) -> dict:
    """One model's paths, its correct ones and its `top` reject reasons (the part before ':') with counts."""
    own = verified.filter(F.col("model") == model)
    stats = own.agg(F.count("*").alias("n"), F.sum(F.col("is_correct").cast("int")).alias("correct")).collect()[0]
    reasons = (
        own.filter(~F.col("is_correct")).withColumn("reason", F.split("reject_reason", ":").getItem(0))
        .groupBy("reason").count().orderBy(F.desc("count")).limit(top).collect()
    )
    return {"n": stats["n"], "correct": int(stats["correct"] or 0),
            "reject_reasons": {r["reason"]: r["count"] for r in reasons}}
