"""RFT training sets: named selections of distinct paths, each with a manifest that rebuilds it.

A manifest (one row of `rft.rft_datasets`) names the Delta version of every table the set was
read from. `rebuild_rows` reads `rft.distinct_paths` at that version (`VERSION AS OF`) and
applies the same selection, so a set comes back row for row however the tables moved on:

    rows = all_dataset_rows(distinct, dataset_specs(models))  # rft.rft_dataset_rows
    manifests = manifest_rows(lake, specs, versions, rows_version, run_id)   # rft.rft_datasets
    manifest = read_manifest(lake, "union", as_of=3)      # rft.rft_datasets VERSION AS OF 3
    manifest = trained_manifest(lake, "tiny-llama-a", "union")  # what that checkpoint learned from
    rows = rebuild_rows(lake, manifest)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.filter.path_verdict import FILTER_VERSION
from rft.filter.pools import own_pool, pool_round, union_pool
from spark_jobs.lakehouse import Lakehouse, where_equals, where_in

ROW_COLUMNS = ["dataset", "question_id", "path_id", "model", "equation_list", "text"]


@dataclass(frozen=True)
class DatasetSpec:
    """One named training set and the distinct-paths pool it is read from."""

    name: str
    pool: str
    source_models: tuple[str, ...] = field(default_factory=tuple)


def dataset_specs(models: list[str], round_: int = 0) -> list[DatasetSpec]:
    """Each model's own paths, plus the union of all models (the paper's RFT-U), of `round_`'s pools."""
    own = [DatasetSpec(name=own_pool(m, round_), pool=own_pool(m, round_), source_models=(m,)) for m in sorted(models)]
    union = union_pool(round_)
    return own + [DatasetSpec(name=union, pool=union, source_models=tuple(sorted(models)))]


def dataset_rows(distinct: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Rows of `rft.rft_dataset_rows` for one training set."""
    return distinct.filter(F.col("pool") == spec.pool).select(
        F.lit(spec.name).alias("dataset"), *ROW_COLUMNS[1:], F.lit(pool_round(spec.pool)).alias("round"))


def all_dataset_rows(distinct: DataFrame, specs: list[DatasetSpec]) -> DataFrame:
    """Rows of `rft.rft_dataset_rows` for every set in `specs`."""
    rows = None
    for spec in specs:
        part = dataset_rows(distinct, spec)
        rows = part if rows is None else rows.unionByName(part)
    return rows


def manifest_rows(
    lake: Lakehouse, specs: list[DatasetSpec], versions: dict[str, int], rows_version: int, run_id: str,
    sampled_rounds: list[int] = (0,),
) -> list[dict]:
    """One manifest per set, from three small aggregates over the tables at the pinned versions.

    `sampled_rounds`: the rounds whose samples the sets hold (k and T are read from them).
    """
    sizes = {
        r["dataset"]: r for r in lake.table("rft_dataset_rows", rows_version).groupBy("dataset")
        .agg(F.count("*").alias("n"), F.countDistinct("question_id").alias("questions")).collect()
    }
    models = sorted({m for spec in specs for m in spec.source_models})
    sampling = {
        r["model"]: r for r in lake.table("sampled_paths", versions["sampled_paths"]).filter(where_in("model", models))
        .filter(F.coalesce(F.col("round"), F.lit(0)).isin(list(sampled_rounds)))
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
            "round": pool_round(spec.pool),
        })
    return manifests


class UnknownDataset(ValueError):
    pass


def read_manifest(lake: Lakehouse, dataset: str, as_of: int | None = None) -> dict:
    """The manifest of `dataset` in `rft.rft_datasets` (at Delta version `as_of`, if given)."""
    rows = lake.table("rft_datasets", as_of).filter(where_equals(dataset=dataset)).collect()
    if not rows:
        known = sorted(r["dataset"] for r in lake.table("rft_datasets", as_of).select("dataset").collect())
        at = f" at version {as_of}" if as_of is not None else ""
        raise UnknownDataset(f"no training set {dataset!r} in rft.rft_datasets{at}; there are: {', '.join(known) or 'none'}")
    return rows[0].asDict(recursive=True)


def trained_manifest(lake: Lakehouse, model: str, dataset: str) -> dict:
    """The manifest recorded with the RFT checkpoint of `model` trained on `dataset` (rft.models)."""
    rows = lake.table("models").filter(where_equals(model=model, stage="rft", training_set=dataset)).collect()
    if not rows:
        raise UnknownDataset(f"rft.models holds no RFT checkpoint of {model!r} trained on {dataset!r}")
    manifest = json.loads(rows[0]["data_manifest"] or "{}")
    if not manifest.get("table_versions"):
        raise UnknownDataset(f"the checkpoint of {model!r} on {dataset!r} has no manifest with table versions")
    return manifest


def rebuild_rows(lake: Lakehouse, manifest: Mapping) -> DataFrame:
    """The set's rows from `rft.distinct_paths` at the Delta version its manifest names."""
    versions = manifest.get("table_versions") or {}
    if "distinct_paths" not in versions:
        raise ValueError(f"the manifest of {manifest.get('dataset')!r} names no version of rft.distinct_paths")
    spec = DatasetSpec(name=manifest["dataset"], pool=manifest["pool"], source_models=tuple(manifest["source_models"]))
    # The set's columns as every version of rft_dataset_rows has them (round came later).
    return dataset_rows(lake.table("distinct_paths", int(versions["distinct_paths"])), spec).select(*ROW_COLUMNS)


def stored_rows(lake: Lakehouse, manifest: Mapping) -> DataFrame:
    """The rows written with the manifest (`rft.rft_dataset_rows` at its `rows_version`; latest if unknown)."""
    version = manifest.get("rows_version")
    return lake.table("rft_dataset_rows", None if version is None else int(version)).filter(
        where_equals(dataset=manifest["dataset"])
    ).select(*ROW_COLUMNS)


def with_question_text(rows: DataFrame, lake: Lakehouse, manifest: Mapping) -> DataFrame:
    """Rows with each question's text, as it read at the manifest's version of `rft.questions`."""
    version = (manifest.get("table_versions") or {}).get("questions")
    questions = lake.table("questions", None if version is None else int(version)).select("question_id", "question")
    return rows.join(questions, on="question_id", how="left").select(
        "dataset", "question_id", "question", *ROW_COLUMNS[2:]
    )
