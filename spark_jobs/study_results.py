"""Rows of `rft.study_results`: which cells are finished, writing cells, reading a config's cells.

    todo = missing_cells(cells, finished_cell_ids(lake, "rft_vs_k", model))
    write_cell(lake, cell, {"x": 1.0, "accuracy": 0.4, ...})    # one commit; a rerun replaces it
    points = current_points(lake, "rft_vs_k", cells, model)     # the rows of these cells only
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from rft.studies.cells import StudyCell
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_equals, where_in
from spark_jobs.schemas import STUDY_RESULTS


def finished_cell_ids(lake: Lakehouse, study: str, model: str) -> set[str]:
    rows = lake.table("study_results").filter(where_equals(study=study, model=model)).select("cell_id").collect()
    return {r["cell_id"] for r in rows}


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


def model_rows(lake: Lakehouse, study: str, models: list[str], version: int) -> pd.DataFrame:
    """Every row of `study` for `models` at Delta `version`: the cells of every setting tried."""
    rows = lake.table("study_results", version).filter(where_equals(study=study)).filter(where_in("model", models))
    return to_pandas(rows.drop("table_versions"))


def current_points(lake: Lakehouse, study: str, cells: list[StudyCell], model: str) -> pd.DataFrame:
    """The rows of this config's cells (rows of other settings stay in the table as their record)."""
    rows = lake.table("study_results").filter(where_equals(study=study, model=model))
    return to_pandas(rows.filter(where_in("cell_id", [c.cell_id for c in cells])).drop("table_versions"))


def cell_steps(lake: Lakehouse, study: str, model: str, cell_id: str) -> int | None:
    """The optimizer steps a finished cell took (None while it has no row): a control's `max_steps`."""
    rows = lake.table("study_results").filter(where_equals(study=study, model=model, cell_id=cell_id)).collect()
    return int(rows[0]["n_steps"]) if rows and rows[0]["n_steps"] is not None else None
