"""RFT training sets: each model's own distinct paths, and the union of all models."""

import dagster as dg
import pandas as pd
from pyspark.sql import functions as F

from rft.filter.path_verdict import FILTER_VERSION
from rft_dagster.resources import SparkResource
from spark_jobs.rft_datasets import dataset_rows, dataset_specs
from spark_jobs.lakehouse import Lakehouse, where_in
from spark_jobs.schemas import RFT_DATASETS

SOURCE_TABLES = ("questions", "sampled_paths", "verified_paths", "distinct_paths")
# The rows and the manifests are two commits. Each manifest pins the version of its rows
# (rows_version), and training reads the rows at that version: a crash between the commits
# leaves the previous manifests, still naming exactly the rows they were written with.


def manifest_rows(lake: Lakehouse, specs, versions: dict[str, int], rows_version: int, run_id: str) -> list[dict]:
    """One manifest per set, from three small aggregates over the tables at the pinned versions."""
    sizes = {
        r["dataset"]: r for r in lake.table("rft_dataset_rows", rows_version).groupBy("dataset")
        .agg(F.count("*").alias("n"), F.countDistinct("question_id").alias("questions")).collect()
    }
    models = sorted({m for spec in specs for m in spec.source_models})
    sampling = {
        r["model"]: r for r in lake.table("sampled_paths", versions["sampled_paths"]).filter(where_in("model", models))
        .groupBy("model").agg(F.max("sample_idx").alias("max_idx"), F.max("temperature").alias("t")).collect()
    }
    n_sft = lake.table("questions", versions["questions"]).filter(F.col("split") == "train").count()
    manifests = []
    for spec in specs:
        drawn = [sampling[m] for m in spec.source_models if m in sampling]
        size = sizes.get(spec.name)
        manifests.append({
            "dataset": spec.name, "pool": spec.pool, "source_models": list(spec.source_models),
            "k": max((int(r["max_idx"]) + 1 for r in drawn), default=0),
            "temperature": max((float(r["t"] or 0.0) for r in drawn), default=0.0), "filter_version": FILTER_VERSION,
            "table_versions": versions, "n_rft_rows": size["n"] if size else 0, "n_sft_rows": n_sft,
            "n_questions": size["questions"] if size else 0, "created_run_id": run_id, "rows_version": rows_version,
        })
    return manifests


@dg.asset(deps=["distinct_paths"], group_name="datasets", kinds={"spark", "delta"})
def rft_datasets(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
    """One manifest per named RFT set (own:<model>, union) and its rows, pinned to Delta versions.

    `rft datasets rebuild NAME` rebuilds any set from its manifest (spark_jobs/rft_datasets.py).
    """
    models = sorted(context.instance.get_dynamic_partitions("models"))
    lake = spark.lakehouse()
    versions = {name: lake.version(name) for name in SOURCE_TABLES}
    distinct = lake.table("distinct_paths", versions["distinct_paths"])
    specs = dataset_specs(models)
    rows = None
    for spec in specs:
        part = dataset_rows(distinct, spec)
        rows = part if rows is None else rows.unionByName(part)
    lake.replace("rft_dataset_rows", rows)
    rows_version = lake.version("rft_dataset_rows")
    manifests = pd.DataFrame(manifest_rows(lake, specs, versions, rows_version, context.run.run_id))
    lake.replace("rft_datasets", lake.spark.createDataFrame(manifests, schema=RFT_DATASETS.schema))
    return dg.MaterializeResult(
        metadata={
            "rows": int(manifests["n_rft_rows"].sum()),  # of rft_dataset_rows, every set
            "datasets": dg.MetadataValue.md(manifests[["dataset", "n_rft_rows", "n_questions", "k"]].to_markdown(index=False)),
            "table_versions": dg.MetadataValue.json(versions),
            "rows_version": rows_version,
        }
    )
