"""SFT and RFT models, one partition per model: base model fine-tuned by an external step."""

import json
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pandas as pd
from pyspark.sql import functions as F

from rft.prompts import format_prompt, format_response
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.datasets import UnknownDataset, read_manifest, stored_rows
from spark_jobs.dedup import UNION_POOL, own_pool
from spark_jobs.lakehouse import Lakehouse, export_parquet, to_pandas, where_equals

SFT = "sft"


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


def train_checkpoint(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, stage: str, training_set: str, examples: pd.DataFrame, data_manifest: dict,
) -> dict:
    """Train one checkpoint of the partition's model and record it in `rft.models`."""
    model = context.partition_key
    spec = settings.catalog.spec(model)
    home = settings.paths
    run_dir = home.run_dir("train", model, training_set.replace(":", "_"), context.run.run_id[:8])
    train_config = asdict(settings.config.train_config("sft" if stage == SFT else "rft"))
    output_dir = home.checkpoints / model / training_set.replace(":", "_") / context.run.run_id[:8]
    stats = train_step(
        context, settings, lake, steps, examples=examples, train_config=train_config, run_dir=run_dir,
        output_dir=output_dir,
    )
    row = {
        "model": model, "stage": stage, "training_set": training_set, "checkpoint": str(output_dir),
        "base": spec.path or spec.tiny or spec.name, "method": train_config["method"],
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"], "n_skipped_steps": stats.get("n_skipped_steps", 0),
        "final_loss": stats["mean_loss_last_10pct"], "tokens_per_s": stats["tokens_per_s"],
        "seconds": stats["seconds"], "train_config": json.dumps(train_config),
        "data_manifest": json.dumps(data_manifest, default=str), "run_id": context.run.run_id,
    }
    lake.replace(
        "models", lake.spark.createDataFrame(pd.DataFrame([row])),
        where_equals(model=model, stage=stage, training_set=training_set),
    )
    return stats


@dg.asset(
    partitions_def=models_partitions, deps=["questions"], group_name="training", kinds={"pytorch", "delta"},
)
def sft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """The base model fine-tuned on the gold solutions of the train split (one row in rft.models)."""
    lake = spark.lakehouse()
    examples = sft_examples(lake)
    manifest = {"sft_rows": len(examples), "questions_version": lake.version("questions")}
    stats = train_checkpoint(
        context, settings, lake, steps, stage=SFT, training_set=SFT, examples=examples, data_manifest=manifest
    )
    return dg.MaterializeResult(metadata=_train_metadata(stats))


def rft_training_sets(settings: RftSettings, model: str) -> list[str]:
    names = {"own": own_pool(model), "union": UNION_POOL}
    return [names[kind] for kind in settings.config.rft_training_sets]


@dg.asset(
    partitions_def=models_partitions, deps=["rft_datasets", "sft_model"], group_name="training",
    kinds={"pytorch", "delta"},
)
def rft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """The base model fine-tuned on the SFT data plus each configured RFT set (own, union)."""
    lake = spark.lakehouse()
    metadata = {}
    for training_set in rft_training_sets(settings, context.partition_key):
        try:
            manifest = read_manifest(lake, training_set)
        except UnknownDataset:
            raise dg.Failure(f"RFT set {training_set!r} is not in rft.rft_datasets: materialise rft_datasets first")
        # Exactly the data the manifest names: its rows and the questions at its Delta versions.
        questions_version = (manifest["table_versions"] or {}).get("questions")
        sft = sft_examples(lake, questions_version)
        paths = to_pandas(stored_rows(lake, manifest).select("question_id", "text"))
        questions = to_pandas(lake.table("questions", questions_version).select("question_id", "question"))
        paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
        rft = pd.DataFrame({"prompt": paths["question"].map(format_prompt), "response": paths["text"].map(format_response)})
        examples = pd.concat([sft, rft], ignore_index=True)
        manifest = {**manifest, "sft_rows": len(sft), "rft_rows": len(rft)}
        stats = train_checkpoint(
            context, settings, lake, steps, stage="rft", training_set=training_set, examples=examples,
            data_manifest=manifest,
        )
        metadata.update({f"{training_set}/{k}": v for k, v in _train_metadata(stats).items()})
    return dg.MaterializeResult(metadata=metadata)


def _train_metadata(stats: dict) -> dict:
    return {
        "n_examples": stats["n_examples"],
        "n_steps": stats["n_steps"], "n_skipped_steps": stats.get("n_skipped_steps", 0),
        "final_loss": dg.MetadataValue.float(float(stats["mean_loss_last_10pct"])),
        "tokens_per_s": dg.MetadataValue.float(float(stats["tokens_per_s"])),
        "seconds": dg.MetadataValue.float(float(stats["seconds"])),
        "checkpoint": dg.MetadataValue.path(stats["output_dir"]),
    }
