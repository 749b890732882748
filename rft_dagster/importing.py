"""`rft import`: generations made elsewhere -> rft.sampled_paths, then verification and dedup.

    import_generations(["gens.jsonl"], "questions.jsonl", instance=instance, defs=defs)

All or nothing: every row of every file is checked (`rft.ingest.generations`) and staged as Parquet under
`$RFT_HOME/runs/import/<import id>/` before anything is written; so are the conflicts with the
lakehouse (a question id held by another question, a model sampled by the pipeline). Then one
Delta commit writes the new questions and one per model writes its paths, replacing that
model's rows. Each imported model becomes a model partition whose `sampled_paths` is recorded
as materialised by the import; `verified_paths` of each and the cross-model assets
(`distinct_paths`, `rft_datasets`) are materialised through Dagster like any run's.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rft.ingest.generations import IMPORT_BACKEND, read_generations, read_questions
from rft.ingest.question_ownership import questions_to_write
from rft.reporting.result_tables import funnel_table
from rft_dagster.partitions import models_partitions
from rft_dagster.job_runs import run_job
from spark_jobs import imported_paths as lake_imports
from spark_jobs.lakehouse import Lakehouse
from spark_jobs.run_results import funnel_counts
from spark_jobs.schemas import SAMPLED_PATHS

# The columns of rft.sampled_paths an import brings (the rest are derived when written).
STAGED_SCHEMA = SAMPLED_PATHS.arrow_schema(["model", "question_id", "sample_idx", "seed", "temperature", "text"])
# Rows are staged in batches so a big file never sits in memory twice; texts can be long.
STAGE_BATCH_ROWS, STAGE_BATCH_CHARS = 10_000, 32 * 2**20


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    rows: dict[str, int]  # per model
    questions: int  # questions the paths answer
    new_questions: int  # of which rft.questions lacked


def new_import_id() -> str:
    return f"import-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def stage_generations(generations: Iterable[dict], path: Path) -> tuple[Counter, set[str]]:
    """Write checked generations to one Parquet file; rows per model and the question ids used."""
    per_model, used, batch, chars = Counter(), set(), [], 0
    partial = path.with_suffix(".partial")
    try:
        with pq.ParquetWriter(partial, STAGED_SCHEMA) as writer:
            for generation in generations:
                batch.append(generation)
                chars += len(generation["text"])
                per_model[generation["model"]] += 1
                used.add(generation["question_id"])
                if len(batch) >= STAGE_BATCH_ROWS or chars >= STAGE_BATCH_CHARS:
                    writer.write_table(pa.Table.from_pylist(batch, STAGED_SCHEMA))
                    batch, chars = [], 0
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, STAGED_SCHEMA))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return per_model, used


def check_free_models(lake: Lakehouse, models: list[str]) -> None:
    sampled = lake_imports.sampled_models(lake, models)
    if sampled:
        names = ", ".join(f"{m} ({backend})" for m, backend in sorted(sampled.items()))
        raise ValueError(f"models sampled by the pipeline cannot take imported generations: {names}; "
                         "import them under another model name")


def import_generations(
    generation_files: list[str], questions_file: str, *, instance: dg.DagsterInstance, defs: dg.Definitions,
    default_model: str | None = None,
) -> ImportResult:
    """Check, stage and write the generations; then verify each imported model and dedup all."""
    settings, lake_resource = defs.resources["settings"], defs.resources["spark"]
    questions = read_questions(questions_file)
    import_id = new_import_id()
    staged = settings.paths.run_dir("import", import_id) / "generations.parquet"
    source = str(Path(questions_file).resolve())
    try:
        per_model, used = stage_generations(read_generations(generation_files, questions, default_model), staged)
        models = sorted(per_model)
        lake = lake_resource.lakehouse()
        held_version, held = lake_imports.questions_held(lake, source)
        new_questions = questions_to_write(questions, used, held, source)
        check_free_models(lake, models)
    except BaseException:
        shutil.rmtree(staged.parent, ignore_errors=True)  # nothing was written: leave no trace either
        raise

    # Checked; from here on, writes. Each is one commit and idempotent, so a crash is fixed by importing again.
    lake_imports.write_imported_questions(lake, new_questions, source, held_version)
    instance.add_dynamic_partitions(models_partitions.name, models)
    files = [str(Path(f).resolve()) for f in generation_files]
    for model in models:
        n = lake_imports.write_imported_paths(lake, str(staged), model, import_id)
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key="sampled_paths", partition=model,
            metadata={"rows": n, "backend": IMPORT_BACKEND, "import_id": import_id, "files": dg.MetadataValue.json(files),
                      "questions": source, "table_version": lake.version("sampled_paths")},
        ))
    for model in models:
        run_job(defs, "verify_job", instance, model)
    run_job(defs, "cross_model_job", instance)
    return ImportResult(import_id, dict(per_model), len(used), len(new_questions))


def import_summary(lake: Lakehouse, models: list[str]) -> pd.DataFrame:
    """The paths funnel of the imported models (sampled: the rows imported), then the union of every model."""
    return funnel_table(*funnel_counts(lake.table("verified_paths"), lake.table("distinct_paths")), models)
