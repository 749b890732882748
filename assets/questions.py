"""Questions: the train and test splits of the task, with canonical gold answers."""

import dagster as dg
import pandas as pd

from rft.task.source import load_questions
from rft_dagster.resources import RftSettings, SparkResource
from spark_jobs.schemas import QUESTIONS


@dg.asset(group_name="data", kinds={"python", "delta"})
def questions(settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """One row per question of the train or test split (embedded task or GSM8K-format JSONL)."""
    rows = pd.DataFrame(load_questions(settings.config.task), columns=QUESTIONS.column_names)
    lake = spark.lakehouse()
    n = lake.replace("questions", lake.spark.createDataFrame(rows, schema=QUESTIONS.schema))
    counts = rows["split"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={"rows": n, "train": counts.get("train", 0), "test": counts.get("test", 0),
                  "source": str(rows["source"].iloc[0]) if len(rows) else "",
                  "preview": dg.MetadataValue.md(rows.head(3)[["question_id", "question", "gold_answer"]].to_markdown(index=False))}
    )
