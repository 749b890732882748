"""Rows of `rft.study_results`: which cells are finished, writing cells, reading a config's cells.

Shared by the study assets (assets/training_studies.py, assets/evaluation_studies.py).
"""

from dataclasses import asdict
from datetime import datetime, timezone

import pandas as pd

from rft.studies.cells import StudyCell
from rft_dagster.resources import RftSettings
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_equals, where_in
from spark_jobs.schemas import STUDY_RESULTS


def finished_cell_ids(lake: Lakehouse, study: str, model: str) -> set[str]:
    rows = lake.table("study_results").filter(where_equals(study=study, model=model)).select("cell_id").collect()
    return {r["cell_id"] for r in rows}


def model_spec(settings: RftSettings, model: str) -> dict:
    """What the partition's name resolves to (tiny config, hub id, folder, GGUF file): part of a cell's settings."""
    return asdict(settings.catalog.spec(model))


def write_cells(lake: Lakehouse, rows: list[tuple[StudyCell, dict]]) -> None:
    """Cells' rows of rft.study_results in one commit, replacing only their keys; columns not given are null."""
    table = pd.DataFrame([
        {"study": cell.study, "model": cell.model, "cell_id": cell.cell_id, "varies": cell.varies, "seed": cell.seed,
         "arm": cell.arm, "config": cell.settings_json, "computed_at": datetime.now(timezone.utc), **row}
        for cell, row in rows
    ], columns=STUDY_RESULTS.column_names)
    (study,), (model,) = {c.study for c, _ in rows}, {c.model for c, _ in rows}
    lake.replace(
        "study_results", lake.spark.createDataFrame(table, schema=STUDY_RESULTS.schema),
        f"{where_equals(study=study, model=model)} AND {where_in('cell_id', [c.cell_id for c, _ in rows])}",
    )


def write_cell(lake: Lakehouse, cell: StudyCell, row: dict) -> None:
    write_cells(lake, [(cell, row)])


def current_points(lake: Lakehouse, study: str, cells: list[StudyCell], model: str) -> pd.DataFrame:
    """The rows of this config's cells (rows of other settings stay in the table as their record)."""
    rows = lake.table("study_results").filter(where_equals(study=study, model=model))
    return to_pandas(rows.filter(where_in("cell_id", [c.cell_id for c in cells])).drop("table_versions"))
