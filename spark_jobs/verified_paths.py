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
from pyspark.sql.pandas.types import from_arrow_type

from rft.filter.path_verdict import FILTER_VERSION
from spark_jobs.schemas import VERIFIED_PATHS

UNKNOWN_QUESTION = "unknown_question"

# The verdict's fields are columns of rft.verified_paths: their types come from its schema. A
# StructType, not a DDL string: parsing DDL needs a live session at import time.
VERDICT_ARROW = pa.struct(VERIFIED_PATHS.arrow_schema(["is_correct", "answer", "equation_list", "n_equations",
                                                        "reject_reason"]))
VERDICT_TYPE = from_arrow_type(VERDICT_ARROW)


def verdicts(text: pa.Array, gold_answer: pa.Array) -> pa.Array:
    from rft.filter.path_verdict import verify_path  # imported in the Python worker

    verdicts = [verify_path(t, g) for t, g in zip(text.to_pylist(), gold_answer.to_pylist())]
    return pa.StructArray.from_arrays(
        [pa.array([getattr(v, field.name) for v in verdicts], field.type) for field in VERDICT_ARROW],
        fields=list(VERDICT_ARROW),
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
            *(["round"] if "round" in paths.columns else []),
        )
    )


def verify_sampled_paths(sampled: DataFrame, questions: DataFrame) -> DataFrame:
    return sampled.transform(lambda df: with_gold_answers(df, questions)).transform(with_verdicts)
