"""RFT training sets: each model's own distinct paths, and the union of all models."""

import dagster as dg
import pandas as pd

from rft_dagster.resources import SparkResource
from spark_jobs.lakehouse import where_round
from spark_jobs.rft_datasets import all_dataset_rows, dataset_specs, manifest_rows
from spark_jobs.schemas import RFT_DATASETS

SOURCE_TABLES = ("questions", "sampled_paths", "verified_paths", "distinct_paths")
# The rows and the manifests are two commits. Each manifest pins the version of its rows
# (rows_version), and training reads the rows at that version: a crash between the commits
# leaves the previous manifests, still naming exactly the rows they were written with.


@dg.asset(deps=["distinct_paths"], group_name="datasets", kinds={"spark", "delta"})
def rft_datasets(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
    """One manifest per named RFT set (own:<model>, union) and its rows, pinned to Delta versions.

    `rft datasets rebuild NAME` rebuilds any set from its manifest (spark_jobs/rft_datasets.py).
    """
    models = sorted(context.instance.get_dynamic_partitions("models"))
    return build_training_sets(context, spark.lakehouse(), models, round_=0, sampled_rounds=[0])


def build_training_sets(
    context: dg.AssetExecutionContext, lake, models: list[str], round_: int, sampled_rounds: list[int],
) -> dg.MaterializeResult:
    """`round_`'s sets (own per model, union) from its distinct paths; other rounds' sets stay as they are."""
    versions = {name: lake.version(name) for name in SOURCE_TABLES}
    specs = dataset_specs(models, round_)
    distinct = lake.table("distinct_paths", versions["distinct_paths"]).filter(where_round(round_))
    lake.replace("rft_dataset_rows", all_dataset_rows(distinct, specs), where_round(round_))
    rows_version = lake.version("rft_dataset_rows")
    manifests = pd.DataFrame(manifest_rows(lake, specs, versions, rows_version, context.run.run_id, sampled_rounds))
    lake.replace("rft_datasets", lake.spark.createDataFrame(manifests, schema=RFT_DATASETS.schema), where_round(round_))
    return dg.MaterializeResult(
        metadata={
            "rows": int(manifests["n_rft_rows"].sum()),  # of rft_dataset_rows, every set
            "round": round_,
            "datasets": dg.MetadataValue.md(manifests[["dataset", "n_rft_rows", "n_questions", "k"]].to_markdown(index=False)),
            "table_versions": dg.MetadataValue.json(versions),
            "rows_version": rows_version,
        }
    )
