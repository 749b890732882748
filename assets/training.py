"""SFT and RFT models, one partition per model: base model fine-tuned by an external step."""

import json
from dataclasses import asdict

import dagster as dg
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.prompts import format_prompt, format_response
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.dedup import UNION_POOL, own_pool
from spark_jobs.lakehouse import Lakehouse, export_parquet, to_pandas, where_equals

SFT = "sft"


def sft_examples(lake: Lakehouse) -> pd.DataFrame:
    """The gold reasoning path of every train question as (prompt, response)."""
    train = to_pandas(lake.table("questions").filter(F.col("split") == "train").select("question", "answer_text"))
    return pd.DataFrame(
        {"prompt": train["question"].map(format_prompt), "response": train["answer_text"].map(format_response)}
    )


def train_checkpoint(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, stage: str, training_set: str, examples: pd.DataFrame, data_manifest: dict,
) -> dict:
    """Train one checkpoint of the partition's model and record it in `rft.models`."""
    model = context.partition_key
    spec = settings.catalog.spec(model)
    home = settings.paths
    run_dir = home.run_dir("train", model, training_set.replace(":", "_"), context.run.run_id[:8])
    examples.to_parquet(run_dir / "train.parquet", index=False)
    corpus = lake.table("questions").filter(F.col("split") == "train").select(
        "question", F.col("answer_text").alias("answer")
    )
    export_parquet(corpus, run_dir / "corpus.parquet")
    train_config = asdict(settings.config.train_config("sft" if stage == SFT else "rft"))
    output_dir = home.checkpoints / model / training_set.replace(":", "_") / context.run.run_id[:8]
    step_spec = {
        "base": {"spec": asdict(spec), "dir": str(home.checkpoints / model / "base")},
        "corpus_path": str(run_dir / "corpus.parquet"),
        "train_data": str(run_dir / "train.parquet"),
        "train_config": train_config,
        "output_dir": str(output_dir),
        "seed": settings.config.task.seed,
    }
    steps.run(context, "train", step_spec, run_dir / "spec.json")
    stats = json.loads((output_dir / "train_stats.json").read_text())
    row = {
        "model": model, "stage": stage, "training_set": training_set, "checkpoint": str(output_dir),
        "base": spec.path or spec.tiny or spec.name, "method": train_config["method"],
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"],
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
    sft = sft_examples(lake)
    metadata = {}
    for training_set in rft_training_sets(settings, context.partition_key):
        manifest_rows = lake.table("rft_datasets").filter(F.col("dataset") == training_set).collect()
        if not manifest_rows:
            raise dg.Failure(f"RFT set {training_set!r} is not in rft.rft_datasets: materialise rft_datasets first")
        paths = to_pandas(training_set_rows(lake, manifest_rows[0]).select("question_id", "text"))
        questions = to_pandas(lake.table("questions").select("question_id", "question"))
        paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
        rft = pd.DataFrame({"prompt": paths["question"].map(format_prompt), "response": paths["text"].map(format_response)})
        examples = pd.concat([sft, rft], ignore_index=True)
        manifest = {**manifest_rows[0].asDict(recursive=True), "sft_rows": len(sft), "rft_rows": len(rft)}
        stats = train_checkpoint(
            context, settings, lake, steps, stage="rft", training_set=training_set, examples=examples,
            data_manifest=manifest,
        )
        metadata.update({f"{training_set}/{k}": v for k, v in _train_metadata(stats).items()})
    return dg.MaterializeResult(metadata=metadata)


def training_set_rows(lake: Lakehouse, manifest) -> DataFrame:
    """The rows of one RFT set at the version its manifest pins (the latest for manifests without one)."""
    version = (manifest["table_versions"] or {}).get("rft_dataset_rows")
    return lake.table("rft_dataset_rows", version).filter(F.col("dataset") == manifest["dataset"])


def _train_metadata(stats: dict) -> dict:
    return {
        "n_examples": stats["n_examples"],
        "n_steps": stats["n_steps"],
        "final_loss": dg.MetadataValue.float(float(stats["mean_loss_last_10pct"])),
        "tokens_per_s": dg.MetadataValue.float(float(stats["tokens_per_s"])),
        "seconds": dg.MetadataValue.float(float(stats["seconds"])),
        "checkpoint": dg.MetadataValue.path(stats["output_dir"]),
    }
