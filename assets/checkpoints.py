"""SFT, RFT and step-matched SFT models, one partition per model: the base model fine-tuned by an external step.

Each is trained once per training seed (`RftConfig.training_seeds`); rft.models holds one row
per (model, stage, training set, seed).
"""

import json
from dataclasses import asdict, replace

import dagster as dg
import pandas as pd

from rft.config.train_config import TrainConfig
from rft.evaluation.arms import RFT, SFT, SFT_MATCHED
from rft.filter.pools import own_pool, union_pool
from rft_dagster.asset_steps import train_step
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.lakehouse import Lakehouse, where_equals
from spark_jobs.rft_datasets import UnknownDataset, read_manifest
from spark_jobs.step_inputs import sft_examples, training_set_examples


def train_checkpoint(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, model: str, stage: str, training_set: str, train_config: TrainConfig, examples: pd.DataFrame,
    data_manifest: dict, round_: int = 0,
) -> dict:
    """Train one checkpoint of `model` and record it in `rft.models` (its seed's row)."""
    seed = train_config.seed
    spec = settings.catalog.spec(model)
    home = settings.paths
    # The stage is in the folder name: a control and the RFT run it matches share a training set.
    folder = training_set.replace(":", "_") if stage != SFT_MATCHED else f"{SFT_MATCHED}-{training_set.replace(':', '_')}"
    run = f"{context.run.run_id[:8]}-s{seed}"
    run_dir = home.run_dir("train", model, folder, run)
    output_dir = home.checkpoints / model / folder / run
    stats = train_step(
        context, settings, lake, steps, examples=examples, train_config=train_config, run_dir=run_dir,
        output_dir=output_dir, model=model,
    )
    row = {
        "model": model, "stage": stage, "training_set": training_set, "checkpoint": str(output_dir),
        "base": spec.path or spec.tiny or spec.name, "method": train_config.method,
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"], "n_skipped_steps": stats.get("n_skipped_steps", 0),
        "final_loss": stats["mean_loss_last_10pct"], "tokens_per_s": stats["tokens_per_s"],
        "seconds": stats["seconds"], "train_config": json.dumps(asdict(train_config)),
        "data_manifest": json.dumps(data_manifest, default=str), "run_id": context.run.run_id,
        "seed": seed, "n_tokens": stats["n_tokens"], "round": round_,
    }
    lake.replace(
        "models", lake.spark.createDataFrame(pd.DataFrame([row])),
        where_equals(model=model, stage=stage, training_set=training_set, seed=str(seed)),
    )
    return stats


def seeded(settings: RftSettings, stage: str) -> list[TrainConfig]:
    """The stage's train config once per training seed."""
    config = settings.config.train_config(stage)
    return [replace(config, seed=seed) for seed in settings.config.training_seeds(stage)]


def _label(prefix: str, config: TrainConfig, n_seeds: int) -> str:
    """Metadata key prefix: the training set, and the seed when there are several."""
    parts = [p for p in (prefix, f"seed{config.seed}" if n_seeds > 1 else "") if p]
    return "/".join(parts) + "/" if parts else ""


@dg.asset(
    partitions_def=models_partitions, deps=["questions"], group_name="training", kinds={"pytorch", "delta"},
)
def sft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """The base model fine-tuned on the gold solutions of the train split, once per training seed (rft.models)."""
    lake = spark.lakehouse()
    examples = sft_examples(lake.table("questions"))
    manifest = {"sft_rows": len(examples), "questions_version": lake.version("questions")}
    configs, metadata = seeded(settings, SFT), {}
    for config in configs:
        stats = train_checkpoint(
            context, settings, lake, steps, model=context.partition_key, stage=SFT, training_set=SFT,
            train_config=config, examples=examples, data_manifest=manifest,
        )
        metadata.update({_label("", config, len(configs)) + k: v for k, v in _train_metadata(stats).items()})
    return dg.MaterializeResult(metadata=metadata)


def rft_training_sets(settings: RftSettings, model: str, round_: int = 0) -> list[str]:
    names = {"own": own_pool(model, round_), "union": union_pool(round_)}
    return [names[kind] for kind in settings.config.rft_training_sets]


@dg.asset(
    partitions_def=models_partitions, deps=["rft_datasets", "sft_model"], group_name="training",
    kinds={"pytorch", "delta"},
)
def rft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """The base model fine-tuned on the SFT data plus each configured RFT set (own, union), once per seed."""
    return train_rft_round(context, settings, spark.lakehouse(), steps, context.partition_key, round_=0)


def train_rft_round(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner, model: str,
    round_: int,
) -> dg.MaterializeResult:
    """`model` trained from its base on the SFT data plus each of `round_`'s RFT sets, once per seed."""
    configs, metadata = seeded(settings, RFT), {}
    for training_set in rft_training_sets(settings, model, round_):
        try:
            manifest = read_manifest(lake, training_set)
        except UnknownDataset:
            raise dg.Failure(f"RFT set {training_set!r} is not in rft.rft_datasets: materialise rft_datasets first")
        sft, rft = training_set_examples(lake, manifest)
        examples = pd.concat([sft, rft], ignore_index=True)
        manifest = {**manifest, "sft_rows": len(sft), "rft_rows": len(rft)}
        for config in configs:
            stats = train_checkpoint(
                context, settings, lake, steps, model=model, stage=RFT, training_set=training_set,
                train_config=config, examples=examples, data_manifest=manifest, round_=round_,
            )
            metadata.update({_label(training_set, config, len(configs)) + k: v for k, v in _train_metadata(stats).items()})
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    partitions_def=models_partitions, deps=["rft_model"], group_name="training", kinds={"pytorch", "delta"},
)
def matched_sft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """For each RFT checkpoint (set x seed), the base model fine-tuned on the SFT data alone for exactly its steps.

    Same hyper-parameters and seed as the RFT run, the gold solutions it trained on (the questions
    version its manifest names), `max_steps` = its recorded optimizer steps: only the data differs.
    Off with `matched_sft_controls: false`.
    """
    return train_controls_round(context, settings, spark.lakehouse(), steps, context.partition_key, round_=0)


def train_controls_round(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner, model: str,
    round_: int,
) -> dg.MaterializeResult:
    """For each of `round_`'s RFT checkpoints of `model`, the SFT data alone for exactly its steps, from the base."""
    if not settings.config.matched_sft_controls:
        context.log.info("matched_sft_controls is off in the config: no step-matched SFT controls trained")
        return dg.MaterializeResult(metadata={"n_examples": 0, "controls": "off (matched_sft_controls: false)"})
    rft_config = settings.config.train_config(RFT)
    seeds = settings.config.training_seeds(RFT)
    metadata = {}
    for training_set in rft_training_sets(settings, model, round_):
        for seed in seeds:
            rft_row = _rft_checkpoint(lake, model, training_set, seed)
            rft_manifest = json.loads(rft_row["data_manifest"] or "{}")
            questions_version = (rft_manifest.get("table_versions") or {}).get("questions")
            examples = sft_examples(lake.table("questions", questions_version))
            config = replace(rft_config, seed=seed, max_steps=int(rft_row["n_steps"]))
            manifest = {"sft_rows": len(examples), "questions_version": questions_version,
                        "matches": {"stage": RFT, "training_set": training_set, "seed": seed,
                                    "checkpoint": rft_row["checkpoint"], "n_steps": int(rft_row["n_steps"])}}
            stats = train_checkpoint(
                context, settings, lake, steps, model=model, stage=SFT_MATCHED, training_set=training_set,
                train_config=config, examples=examples, data_manifest=manifest, round_=round_,
            )
            metadata.update({_label(training_set, config, len(seeds)) + k: v for k, v in _train_metadata(stats).items()})
    return dg.MaterializeResult(metadata=metadata)


def _rft_checkpoint(lake: Lakehouse, model: str, training_set: str, seed: int):
    rows = lake.table("models").filter(
        where_equals(model=model, stage=RFT, training_set=training_set, seed=str(seed))
    ).collect()
    if not rows:
        raise dg.Failure(f"no RFT checkpoint of {model!r} on {training_set!r} with seed {seed} in rft.models: "
                         "materialise rft_model first")
    return rows[0]


def _train_metadata(stats: dict) -> dict:
    return {
        "n_examples": stats["n_examples"],
        "n_steps": stats["n_steps"], "n_skipped_steps": stats.get("n_skipped_steps", 0),
        "n_tokens": stats.get("n_tokens", 0),
        "final_loss": dg.MetadataValue.float(float(stats["mean_loss_last_10pct"])),
        "tokens_per_s": dg.MetadataValue.float(float(stats["tokens_per_s"])),
        "seconds": dg.MetadataValue.float(float(stats["seconds"])),
        "checkpoint": dg.MetadataValue.path(stats["output_dir"]),
    }
