"""Generations made elsewhere, into the lakehouse: rows checked by `rft.ingest.generations`, staged as Parquet.

Each model's rows are one Delta commit that replaces that model's rows, so importing the same
generations again gives the same rows (same path ids), never more.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.ingest.generations import IMPORT_BACKEND, IMPORT_SPLIT
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_equals, where_in
from spark_jobs.path_ids import path_id
from spark_jobs.schemas import QUESTIONS


def with_import_columns(staged: DataFrame, run_id: str) -> DataFrame:
    """Staged generations (model, question_id, sample_idx, seed, temperature, text) -> sampled_paths rows."""
    return staged.select(
        path_id(F.col("model"), F.col("question_id"), F.col("sample_idx")).alias("path_id"),
        "model", "question_id", "sample_idx", "seed", "temperature", "text",
        F.lit(IMPORT_BACKEND).alias("backend"), F.lit(run_id).alias("run_id"),
    )  # how generation ended is not in an import file: n_new_tokens and finish_reason are written null


def imported_models(lake: Lakehouse, models: list[str]) -> list[str]:
    """Those of `models` whose sampled paths were imported (`rft import`), not sampled here."""
    rows = (
        lake.table("sampled_paths").filter(where_in("model", models))
        .filter(F.col("backend") == IMPORT_BACKEND).select("model").distinct().collect()
    )
    return sorted(row["model"] for row in rows)


def sampled_models(lake: Lakehouse, models: list[str]) -> dict[str, str]:
    """Those of `models` with paths sampled by the pipeline, and the backend that sampled them."""
    rows = (
        lake.table("sampled_paths").filter(where_in("model", models))
        .filter(F.col("backend") != IMPORT_BACKEND).groupBy("model").agg(F.min("backend").alias("backend")).collect()
    )
    return {row["model"]: row["backend"] for row in rows}


def _held(source: str) -> str:
    """Rows of rft.questions other than those this import source wrote."""
    return f"NOT ({where_equals(split=IMPORT_SPLIT, source=source)})"


def questions_held(lake: Lakehouse, source: str) -> tuple[int, list[dict]]:
    """The version of rft.questions read, and its rows other than those this import source wrote before."""
    version = lake.version("questions")
    rows = lake.table("questions", version).filter(_held(source))
    return version, to_pandas(rows.select("question_id", "split", "question", "gold_answer", "source")).to_dict("records")


def write_imported_questions(lake: Lakehouse, rows: list[dict], source: str, read_version: int) -> int:
    """Replace this source's imported questions with `rows` (one commit), computed from the
    questions held at `read_version`: refused if another writer changed those since."""
    df = lake.spark.createDataFrame(pd.DataFrame(rows, columns=QUESTIONS.column_names), schema=QUESTIONS.schema)
    return lake.replace("questions", df, where_equals(split=IMPORT_SPLIT, source=source),
                        read_version=read_version, read_where=_held(source))


def write_imported_paths(lake: Lakehouse, staged_path: str, model: str, run_id: str) -> int:
    """Replace `model`'s sampled paths with its staged generations (one commit)."""
    staged = lake.read_parquet(staged_path).filter(F.col("model") == model)
    return lake.replace("sampled_paths", with_import_columns(staged, run_id), where_equals(model=model))
