"""What several assets do alike: build training examples, launch the train and evaluate steps.

Asset modules do not import each other (`.importlinter`); what two of them share lives here.
Each function reads from the lakehouse, writes a step's inputs under the run's folder and
launches the step through the `steps` resource.
"""

import json
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pandas as pd
from pyspark.sql import functions as F

from rft.evaluation.scoring import accuracy_summary
from rft.task.prompts import format_prompt, format_response
from rft_dagster.resources import RftSettings, StepRunner
from spark_jobs.lakehouse import Lakehouse, export_parquet, to_pandas


def sft_examples(lake: Lakehouse, questions_version: int | None = None) -> pd.DataFrame:
    """The gold reasoning path of every train question as (prompt, response)."""
    questions = lake.table("questions", questions_version)
    train = to_pandas(questions.filter(F.col("split") == "train").select("question", "answer_text"))
    return pd.DataFrame(
        {"prompt": train["question"].map(format_prompt), "response": train["answer_text"].map(format_response)}
    )


def train_step(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, examples: pd.DataFrame, train_config: dict, run_dir: Path, output_dir: Path,
) -> dict:
    """Fine-tune the partition's base model on `examples` in the external train step; its train_stats."""
    spec = settings.catalog.spec(context.partition_key)
    examples.to_parquet(run_dir / "train.parquet", index=False)
    base_dir = settings.paths.checkpoints / context.partition_key / "base"
    corpus_path = None
    # Only read to build a tiny base the first time; every later run loads the saved base, so the
    # corpus is exported only while there is none (a query and a file less per training).
    if not (base_dir / "config.json").exists():
        corpus = lake.table("questions").filter(F.col("split") == "train").select(
            "question", F.col("answer_text").alias("answer")
        )
        corpus_path = str(run_dir / "corpus.parquet")
        export_parquet(corpus, corpus_path)
    step_spec = {
        "base": {"spec": asdict(spec), "dir": str(base_dir)},
        "corpus_path": corpus_path,
        "train_data": str(run_dir / "train.parquet"),
        "train_config": train_config,
        "output_dir": str(output_dir),
        "seed": settings.config.task.seed,
    }
    steps.run(context, "train", step_spec, run_dir / "spec.json")
    return json.loads((output_dir / "train_stats.json").read_text())


def as_examples(rows: pd.DataFrame) -> pd.DataFrame:
    """(question, text) rows as the train step's (prompt, response)."""
    return pd.DataFrame({"prompt": rows["question"].map(format_prompt), "response": rows["text"].map(format_response)})


def evaluate_checkpoints(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    checkpoints: list[str], run_dir: Path, *, names: list[str], maj_k: int | None,
) -> list[dict[str, dict]]:
    """Each checkpoint's {metric: accuracy_summary} on the test split, from one evaluate step."""
    cfg = settings.config.evaluation
    test = lake.table("questions").filter(F.col("split") == "test").select("question_id", "question", "gold_answer")
    export_parquet(test, run_dir / "questions.parquet")
    targets = [{"checkpoint": c, "output": str(run_dir / f"{name}.parquet")} for c, name in zip(checkpoints, names)]
    step_spec = {
        "checkpoints": targets, "questions": str(run_dir / "questions.parquet"),
        "max_new_tokens": cfg.max_new_tokens, "batch_size": cfg.batch_size, "maj_k": maj_k,
        "temperature": cfg.temperature, "seed": cfg.seed,
        "backend": steps.backend_for(cfg.backend), "vllm_options": cfg.vllm_options,
    }
    steps.run(context, "evaluate", step_spec, run_dir / "spec.json")
    results = []
    for target in targets:
        predictions = pd.read_parquet(target["output"])
        results.append({
            metric: accuracy_summary(group.to_dict("records")) for metric, group in predictions.groupby("metric")
        })
    return results
