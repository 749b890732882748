"""Questions: the train and test splits of the task, with canonical gold answers."""

import dagster as dg
import pandas as pd

from rft.ingest.generations import IMPORT_SPLIT
from rft.ingest.question_ownership import claim_imported_questions
from rft.task.source import load_questions
from rft_dagster.resources import RftSettings, SparkResource
from spark_jobs.lakehouse import sql_literal, to_pandas, where_in
from spark_jobs.schemas import QUESTIONS


@dg.asset(group_name="data", kinds={"python", "delta"})
def questions(settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """One row per question of the train or test split (embedded task or GSM8K-format JSONL)."""
    rows = pd.DataFrame(load_questions(settings.config.task), columns=QUESTIONS.column_names)
    lake = spark.lakehouse()
    version, imported_rows = lake.version("questions"), f"split = {sql_literal(IMPORT_SPLIT)}"
    imported = to_pandas(lake.table("questions", version).filter(imported_rows))
    try:
        claimed = claim_imported_questions(rows.to_dict("records"), imported.to_dict("records"))
    except ValueError as error:
        raise dg.Failure(str(error)) from None
    # The task's own rows, plus imported rows it now holds itself; `rft import` owns the rest
    # (rules in rft/ingest/question_ownership.py).
    where = f"split <> {sql_literal(IMPORT_SPLIT)}" + (f" OR {where_in('question_id', claimed)}" if claimed else "")
    # Which rows to replace depends on the imported questions read above: an import meanwhile
    # makes this write fail (ConcurrentWriteError) rather than overwrite what it claims.
    n = lake.replace("questions", lake.spark.createDataFrame(rows, schema=QUESTIONS.schema), where,
                     read_version=version, read_where=imported_rows)
    counts = rows["split"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={"rows": n, "train": counts.get("train", 0), "test": counts.get("test", 0),
                  "imported_taken_over": len(claimed),
                  "source": str(rows["source"].iloc[0]) if len(rows) else "",
                  "preview": dg.MetadataValue.md(rows.head(3)[["question_id", "question", "gold_answer"]].to_markdown(index=False))}
    )
