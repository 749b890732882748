"""Running one Dagster job in this process, and what Dagster's records say about past runs.

Every command that drives the loop (`rft run`, `backfill`, `import`, `studies`, `marts`) runs its
jobs through `run_job`, so they share one way of reporting a stage and one error on failure.
"""

from __future__ import annotations

import dagster as dg

from rft.ingest.generations import IMPORT_BACKEND


def run_job(defs: dg.Definitions, job_name: str, instance: dg.DagsterInstance,
            partition_key: str | None = None) -> None:
    """Run `job_name` (for one partition) in process on `instance`; an error names the run on failure."""
    job = defs.resolve_job_def(job_name)
    label = f"{job_name}[{partition_key}]" if partition_key else job_name
    print(f"==> {label}", flush=True)
    result = job.execute_in_process(instance=instance, partition_key=partition_key)
    if not result.success:
        raise RuntimeError(f"{label} failed (run {result.run_id})")


def is_imported(instance: dg.DagsterInstance, model: str) -> bool:
    """Whether `model`'s latest sampled_paths was written by an import (Dagster's records; no Spark)."""
    key = dg.AssetRecordsFilter(asset_key=dg.AssetKey("sampled_paths"), asset_partitions=[model])
    records = instance.fetch_materializations(key, limit=1).records
    backend = records[0].asset_materialization.metadata.get("backend") if records else None
    return backend is not None and backend.value == IMPORT_BACKEND
