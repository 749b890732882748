"""What the study assets share, and the factory of the training studies' assets.

    rft_vs_k_study = training_study_asset(RFT_VS_K, deps=["verified_paths"], stage="rft",
                                          examples=rft_vs_k_examples, description="...")

Each study is an object of the registry (rft/reporting/study_registry.py): its cells, fits,
figure and table come from there, so nothing here tests a study's name. A study's cells come from
the config; a cell whose id already has a row in `rft.study_results` is reused, so
re-materialising computes only missing cells. Cells are written one at a time: a run stopped
midway keeps every finished cell.
"""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace

import dagster as dg

from rft.config.rft_config import RftConfig
from rft.reporting.run_plots import markdown_image
from rft.reporting.study_registry import Study, StudyView, find_study
from rft.studies.cells import EVAL_METRIC, StudyCell, is_control, missing_cells
from rft_dagster.asset_steps import evaluate_checkpoints, model_spec, train_step
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.lakehouse import Lakehouse
from spark_jobs.study_inputs import CellExamples, StudyInputError
from spark_jobs.study_results import cell_steps, current_points, finished_cell_ids, write_cell

# (lake, model, config, the cells to compute, log) -> each cell's examples, made when it is its turn
ExampleMaker = Callable[[Lakehouse, str, RftConfig, list[StudyCell], Callable[[str], None]], Iterator[CellExamples]]


def study_cells(study: Study, settings: RftSettings, model: str) -> list[StudyCell]:
    """The cells the config asks of `model` (none where the study is turned off)."""
    return study.cells_for(settings.config, model, model_spec(settings, model))


@contextlib.contextmanager
def inputs_checked() -> Iterator[None]:
    """A study's missing or stale inputs fail the asset with what to materialise first."""
    try:
        yield
    except StudyInputError as error:
        raise dg.Failure(str(error)) from None


def study_metadata(study: Study, view: StudyView, *, computed: int, reused: int, declared: dict) -> dict:
    """Plot (with 95% intervals and fitted curves), the cells and their fits, and what was recomputed."""
    return {
        "cells_computed": computed,
        "cells_reused": reused,
        "declared": dg.MetadataValue.json(declared),
        "cells": dg.MetadataValue.md(view.table.to_markdown(index=False) if not view.table.empty else "no cells"),
        f"{study.name}_plot": dg.MetadataValue.md(markdown_image(view.png, study.name.replace("_", " "))),
        f"{study.name}_points": dg.MetadataValue.json(view.entries),
        **({"left_out": dg.MetadataValue.json(view.left_out)} if view.left_out else {}),
    }


def cells_result(study: Study, settings: RftSettings, lake: Lakehouse, model: str, cells: list[StudyCell],
                 computed: int) -> dg.MaterializeResult:
    """A per-model study's materialisation: the view of this config's cells of `model`."""
    view = study.view(current_points(lake, study.name, cells, model))
    return dg.MaterializeResult(metadata=study_metadata(
        study, view, computed=computed, reused=len(cells) - computed,
        declared=study.settings(settings.config).model_dump(),
    ))


def run_cell(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    prepared: CellExamples, *, stage: str,
) -> None:
    """Train and evaluate one cell on its examples, then write its row."""
    cell, model, home = prepared.cell, context.partition_key, settings.paths
    run_dir = home.run_dir("study", cell.study, model, cell.cell_id, context.run.run_id[:8])
    output_dir = home.checkpoints / model / "studies" / cell.study / cell.cell_id
    train_config = replace(settings.config.train_config(stage), seed=cell.seed)
    if is_control(cell):
        # The RFT cell it matches comes first in the study's cells, so its row is there by now.
        matched = cell_steps(lake, cell.study, model, cell.matches)
        if matched is None:
            raise dg.Failure(f"{cell.study} {model} {cell.label}: the RFT cell {cell.matches} it matches "
                             "has no row in rft.study_results")
        train_config = replace(train_config, max_steps=matched)
    context.log.info(f"{cell.study} {model} {cell.label}: training on {len(prepared.examples)} examples")
    stats = train_step(
        context, settings, lake, steps, examples=prepared.examples, run_dir=run_dir, output_dir=output_dir,
        train_config=train_config,
    )
    [metrics] = evaluate_checkpoints(
        context, settings, lake, steps, [str(output_dir)], run_dir, names=[cell.cell_id], maj_k=None
    )
    summary = metrics[EVAL_METRIC]
    write_cell(lake, cell, {
        "x": None if cell.x is None else float(cell.x), **prepared.counts,
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"],
        "n_test": summary["n"], "n_correct": summary["correct"], "accuracy": summary["accuracy"],
        "ci_low": summary["ci_low"], "ci_high": summary["ci_high"],
        "table_versions": prepared.table_versions, "checkpoint": str(output_dir), "run_id": context.run.run_id,
    })
    context.log.info(f"{cell.study} {model} {cell.label}: accuracy {summary['accuracy']:.3f} on {summary['n']}")


def training_study_asset(
    name: str, *, deps: list[str], stage: str, examples: ExampleMaker, description: str,
) -> dg.AssetsDefinition:
    """The asset `<name>_study`, one partition per model: each missing cell trained at `stage` and evaluated."""
    study = find_study(name)

    @dg.asset(
        name=f"{name}_study", description=description, partitions_def=models_partitions, deps=deps,
        group_name="studies", kinds={"pytorch", "delta"},
    )
    def training_study(
        context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
    ) -> dg.MaterializeResult:
        model = context.partition_key
        cells = study_cells(study, settings, model)
        lake = spark.lakehouse()
        todo = missing_cells(cells, finished_cell_ids(lake, study.name, model))
        if todo:
            with inputs_checked():
                for prepared in examples(lake, model, settings.config, todo, context.log.info):
                    run_cell(context, settings, lake, steps, prepared, stage=stage)
        return cells_result(study, settings, lake, model, cells, computed=len(todo))

    return training_study
