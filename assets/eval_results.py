"""Accuracy on the test split of every checkpoint of a model: SFT, RFT and step-matched SFT, every seed."""


import dagster as dg
import pandas as pd

from rft_dagster.asset_steps import evaluate_checkpoints
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from rft_dagster.result_metadata import accuracy_metadata, rounds_metadata
from spark_jobs.lakehouse import where_model_round, where_round
from spark_jobs.schemas import EVAL_RESULTS


@dg.asset(
    partitions_def=models_partitions, deps=["sft_model", "rft_model", "matched_sft_model"], group_name="evaluation",
    kinds={"pytorch", "delta"},
)
def eval_results(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per (model, stage, training set, seed, metric): greedy maj1@1 and, if configured, maj1@K."""
    return evaluate_round(context, settings, spark.lakehouse(), steps, context.partition_key, round_=0)


def evaluate_round(
    context: dg.AssetExecutionContext, settings: RftSettings, lake, steps: StepRunner, model: str, round_: int,
) -> dg.MaterializeResult:
    """Every checkpoint of `model` trained in `round_` (round 0: SFT too) -> its rows of rft.eval_results."""
    cfg = settings.config.evaluation
    checkpoints = (
        lake.table("models").filter(where_model_round(model, round_)).orderBy("stage", "training_set", "seed").collect()
    )
    run_dir = settings.paths.run_dir("evaluate", model, context.run.run_id[:8])
    results = evaluate_checkpoints(
        context, settings, lake, steps, [c["checkpoint"] for c in checkpoints], run_dir,
        names=[f"{c['stage']}-{c['training_set'].replace(':', '_')}-s{c['seed']}" for c in checkpoints], maj_k=cfg.maj_k,
    )
    rows = []
    for ckpt, metrics in zip(checkpoints, results):
        for metric, summary in metrics.items():
            rows.append({
                "model": model, "stage": ckpt["stage"], "training_set": ckpt["training_set"], "metric": metric,
                "n_test": summary["n"], "n_correct": summary["correct"], "accuracy": summary["accuracy"],
                "ci_low": summary["ci_low"], "ci_high": summary["ci_high"], "checkpoint": ckpt["checkpoint"],
                "run_id": context.run.run_id, "scoring": cfg.scoring, "seed": ckpt["seed"],
                "n_steps": ckpt["n_steps"], "n_tokens": ckpt["n_tokens"], "grades": summary["grades"],
                "round": round_,
            })
    # Nullable integers: checkpoints trained before tokens were recorded have none (NaN is no BIGINT).
    table = pd.DataFrame(rows, columns=EVAL_RESULTS.column_names).astype(
        {"seed": "Int64", "n_steps": "Int64", "n_tokens": "Int64", "round": "Int64"}
    )
    lake.replace("eval_results", lake.spark.createDataFrame(table, schema=EVAL_RESULTS.schema), where_model_round(model, round_))
    return dg.MaterializeResult(
        metadata={
            "rows": len(table), "round": round_,
            "results": dg.MetadataValue.md(
                table[["stage", "training_set", "seed", "metric", "n_test", "accuracy", "ci_low", "ci_high", "n_steps"]].to_markdown(index=False)
            ),
            # Round 0: every model evaluated so far, so one page compares them. A later round:
            # this model's rounds side by side.
            **(accuracy_metadata(lake.table("eval_results").filter(where_round(0)), lake.table("models"))
               if round_ == 0 else rounds_metadata(lake, model)),
        }
    )
