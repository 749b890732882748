"""SFT and RFT models, one partition per model: base model fine-tuned by an external step."""

import json
from dataclasses import asdict

import dagster as dg
import pandas as pd

from rft.filter.pools import UNION_POOL, own_pool
from rft_dagster.asset_steps import train_step
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.lakehouse import Lakehouse, where_equals
from spark_jobs.rft_datasets import UnknownDataset, read_manifest
from spark_jobs.step_inputs import sft_examples, training_set_examples

SFT = "sft"


def train_checkpoint(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, stage: str, training_set: str, examples: pd.DataFrame, data_manifest: dict,
) -> dict:
    """Train one checkpoint of the partition's model and record it in `rft.models`."""
    model = context.partition_key
    spec = settings.catalog.spec(model)
    home = settings.paths
    run_dir = home.run_dir("train", model, training_set.replace(":", "_"), context.run.run_id[:8])
    train_config = settings.config.train_config("sft" if stage == SFT else "rft")
    output_dir = home.checkpoints / model / training_set.replace(":", "_") / context.run.run_id[:8]
    stats = train_step(
        context, settings, lake, steps, examples=examples, train_config=train_config, run_dir=run_dir,
        output_dir=output_dir,
    )
    row = {
        "model": model, "stage": stage, "training_set": training_set, "checkpoint": str(output_dir),
        "base": spec.path or spec.tiny or spec.name, "method": train_config.method,
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"], "n_skipped_steps": stats.get("n_skipped_steps", 0),
        "final_loss": stats["mean_loss_last_10pct"], "tokens_per_s": stats["tokens_per_s"],
        "seconds": stats["seconds"], "train_config": json.dumps(asdict(train_config)),
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
    examples = sft_examples(lake.table("questions"))
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
        sft, rft = training_set_examples(lake, manifest)
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
