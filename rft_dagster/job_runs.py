"""Running one Dagster job in this process, and what Dagster's records say about past runs.

Every command that drives the loop (`rft run`, `backfill`, `import`, `studies`, `marts`) runs its
jobs through `run_job`, so they share one way of reporting a stage and one error on failure.
The stage lines go to the `rft_dagster.stages` logger; the CLI shows them (rft_dagster/console.py).
"""

from __future__ import annotations

import logging

import dagster as dg

from rft.ingest.generations import IMPORT_BACKEND
from rft_dagster.run_reports import JobFailed, report_line, step_reports

stages = logging.getLogger("rft_dagster.stages")
# A record with this attribute set says what is about to run: a terminal shows it until the stage lines come.
RUNNING = {"rft_running": True}


def run_job(defs: dg.Definitions, job_name: str, instance: dg.DagsterInstance,
            partition_key: str | None = None) -> None:
    """Run `job_name` (for one partition) in process on `instance`; one stage line per step.

    Raises JobFailed naming the run and each failed step's error.
    """
    job = defs.resolve_job_def(job_name)
    label = f"{job_name}[{partition_key}]" if partition_key else job_name
    stages.info("%s ...", label, extra=RUNNING)
    result = job.execute_in_process(instance=instance, partition_key=partition_key, raise_on_error=False)
    reports = step_reports(result.all_events)
    for report in reports:
        stages.info(report_line(report))
    if not result.success:
        errors = [f"{r.step}: {r.error}" for r in reports if r.error is not None]
        raise JobFailed(label, result.run_id, errors or ["the run failed before any step; see the log"])


def is_imported(instance: dg.DagsterInstance, model: str) -> bool:
    """Whether `model`'s latest sampled_paths was written by an import (Dagster's records; no Spark)."""
    key = dg.AssetRecordsFilter(asset_key=dg.AssetKey("sampled_paths"), asset_partitions=[model])
    records = instance.fetch_materializations(key, limit=1).records
    backend = records[0].asset_materialization.metadata.get("backend") if records else None
    return backend is not None and backend.value == IMPORT_BACKEND
