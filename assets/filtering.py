"""The rejection filter (Spark jobs): verified paths per model, distinct paths across models."""

import dagster as dg
from pyspark.sql import functions as F

from rft_dagster.partitions import models_partitions
from rft_dagster.result_metadata import pass_at_k_metadata
from rft_dagster.resources import SparkResource
from spark_jobs.distinct_paths import distinct_paths as distinct_paths_of
from spark_jobs.lakehouse import where_in, where_model_round, where_round
from spark_jobs.run_results import pool_sizes, verdict_summary
from spark_jobs.verified_paths import verify_sampled_paths


@dg.asset(
    partitions_def=models_partitions, deps=["sampled_paths", "questions"], group_name="filtering",
    kinds={"spark", "delta"},
)
def verified_paths(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
    """One row per sampled path with its verdict: answer vs gold, every <<lhs=rhs>> checked safely."""
    return verify_round(spark.lakehouse(), context.partition_key, round_=0)


def verify_round(lake, model: str, round_: int) -> dg.MaterializeResult:
    """`model`'s sampled paths of `round_` -> its verified paths of that round."""
    rows = where_model_round(model, round_)
    verified = verify_sampled_paths(lake.table("sampled_paths").filter(rows), lake.table("questions"))
    n = lake.replace("verified_paths", verified, rows)
    summary = verdict_summary(lake.table("verified_paths").filter(where_round(round_)), model)
    return dg.MaterializeResult(
        metadata={
            "rows": n, "correct": summary["correct"], "round": round_,
            "correct_rate": dg.MetadataValue.float(summary["correct"] / max(summary["n"], 1)),
            "reject_reasons": dg.MetadataValue.json(summary["reject_reasons"]),
            "table_version": lake.version("verified_paths"),
        }
    )


@dg.asset(deps=["verified_paths"], group_name="filtering", kinds={"spark", "delta"})
def distinct_paths(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
    """One row per (pool, question, equation list): the most diverse correct path, with every producer.

    Its materialisation carries the pass@k curve of every model (plot and numbers).
    """
    models = sorted(context.instance.get_dynamic_partitions("models"))
    return dedup_round(spark.lakehouse(), models, round_=0, path_rounds=[0])


def dedup_round(lake, models: list[str], round_: int, path_rounds: list[int]) -> dg.MaterializeResult:
    """The verified paths of `path_rounds` -> the distinct paths of `round_`'s pools (only those are replaced)."""
    verified = lake.table("verified_paths").filter(where_in("model", models)).filter(
        F.coalesce(F.col("round"), F.lit(0)).isin(path_rounds))
    n = lake.replace("distinct_paths", distinct_paths_of(verified, round_), where_round(round_), materialise=True)
    per_pool = pool_sizes(lake.table("distinct_paths").filter(where_round(round_))).collect()
    return dg.MaterializeResult(
        metadata={
            "rows": n, "models": dg.MetadataValue.json(models), "round": round_,
            "path_rounds": dg.MetadataValue.json(path_rounds),
            "per_pool": dg.MetadataValue.json({r["pool"]: r["distinct"] for r in per_pool}),
            "table_version": lake.version("distinct_paths"),
            **pass_at_k_metadata(verified),
        }
    )
