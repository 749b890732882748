"""Scaling studies that train nothing: a base model's held-out loss, and what the pipeline evaluated.

- `heldout_loss[model]`: one cell per base model, its mean per-token loss on the test split's
  gold solutions (an external step, like training), in `rft.study_results`.
- `pretrain_loss_study`: every model's loss next to its SFT and RFT accuracy from
  `rft.eval_results`, fitted across models (accuracy vs loss, vs ln parameters, Pearson's r).
- `union_gain_study[model]`: the model's RFT on its own paths and on the union, as evaluated by
  `eval_results`, two cells in `rft.study_results`, and the gain with a 95% interval.

Cells are reused like the training studies' (assets/training_studies.py): an id with a row is not
measured again.
"""

import json

import dagster as dg

from rft.reporting.study_registry import find_study
from rft.studies.cells import PRETRAIN_LOSS, UNION_GAIN, missing_cells, union_gain_cells
from rft_dagster.asset_steps import base_dir, heldout_loss_step, model_spec
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from rft_dagster.study_assets import cells_result, inputs_checked, study_cells, study_metadata
from spark_jobs.lakehouse import to_pandas, where_in
from spark_jobs.study_accuracy import stage_accuracies
from spark_jobs.study_inputs import union_gain_evaluations
from spark_jobs.study_results import current_points, finished_cell_ids, model_rows, write_cell, write_cells


@dg.asset(partitions_def=models_partitions, deps=["questions"], group_name="studies", kinds={"pytorch", "delta"})
def heldout_loss(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per base model in rft.study_results: its mean per-token loss on the test split's gold solutions."""
    model, study = context.partition_key, find_study(PRETRAIN_LOSS)
    cells = study_cells(study, settings, model)
    lake = spark.lakehouse()
    todo = missing_cells(cells, finished_cell_ids(lake, PRETRAIN_LOSS, model))
    for cell in todo:
        versions = {"questions": lake.version("questions")}
        run_dir = settings.paths.run_dir("study", PRETRAIN_LOSS, model, cell.cell_id, context.run.run_id[:8])
        result = heldout_loss_step(context, settings, lake, steps, run_dir=run_dir,
                                   questions_version=versions["questions"])
        write_cell(lake, cell, {
            "x": result["loss"], "distinct_paths": 0, "n_sft_rows": 0, "n_examples": 0, "n_steps": 0,
            "n_test": result["n_texts"], "n_params": result["n_params"], "n_tokens": result["n_tokens"],
            "table_versions": versions, "checkpoint": str(base_dir(settings, model)), "run_id": context.run.run_id,
        })
        context.log.info(f"{PRETRAIN_LOSS} {model}: {result['loss']:.4f} nats per token over "
                         f"{result['n_tokens']} tokens ({result['n_params']} parameters)")
    rows = current_points(lake, PRETRAIN_LOSS, cells, model)
    return dg.MaterializeResult(metadata={
        "cells_computed": len(todo), "cells_reused": len(cells) - len(todo),
        "declared": dg.MetadataValue.json(study.settings(settings.config).model_dump()),
        **({"loss": dg.MetadataValue.float(float(rows["x"].iloc[0])), "n_params": int(rows["n_params"].iloc[0]),
            "n_tokens": int(rows["n_tokens"].iloc[0])} if not rows.empty else {}),
    })


@dg.asset(deps=["heldout_loss", "eval_results"], group_name="studies", kinds={"spark"})
def pretrain_loss_study(context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """Every model's held-out loss against its SFT and RFT accuracy, fitted across models, with Pearson's r."""
    models = sorted(context.instance.get_dynamic_partitions("models"))
    study = find_study(PRETRAIN_LOSS)
    lake = spark.lakehouse()
    versions = {name: lake.version(name) for name in ("study_results", "eval_results")}
    loss_rows = model_rows(lake, PRETRAIN_LOSS, models, versions["study_results"])
    accuracies = to_pandas(stage_accuracies(lake.table("eval_results", versions["eval_results"]))
                           .filter(where_in("model", models)))
    view = study.view(loss_rows, accuracies)
    view.left_out.update({m: "no heldout_loss cell yet" for m in models if m not in set(loss_rows["model"])})
    for entry in view.entries:
        for fit, why in entry["no_fit"].items():
            context.log.info(f"{PRETRAIN_LOSS} {entry['stage']} vs {fit}: no fit, {why}")
    return dg.MaterializeResult(metadata={
        **study_metadata(study, view, computed=0, reused=len(view.table),
                         declared=study.settings(settings.config).model_dump()),
        "models": dg.MetadataValue.json(models), "table_versions": dg.MetadataValue.json(versions),
    })


def _cell_row(evaluation, versions: dict[str, int], run_id: str) -> dict:
    """A union_gain cell's row from its arm's evaluation (a row of union_gain_evaluations)."""
    manifest = json.loads(evaluation.data_manifest)
    return {
        "x": float(manifest["rft_rows"]), "distinct_paths": int(manifest["rft_rows"]),
        "n_sft_rows": int(manifest["sft_rows"]), "n_examples": int(evaluation.n_examples),
        "n_steps": int(evaluation.n_steps), "n_test": int(evaluation.n_test), "n_correct": int(evaluation.n_correct),
        "accuracy": float(evaluation.accuracy), "ci_low": float(evaluation.ci_low), "ci_high": float(evaluation.ci_high),
        "table_versions": versions, "checkpoint": evaluation.checkpoint, "run_id": run_id,
    }


@dg.asset(partitions_def=models_partitions, deps=["eval_results"], group_name="studies", kinds={"spark", "delta"})
def union_gain_study(context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """Two rows per model in rft.study_results: its RFT on own paths and on the union, as evaluated; the gain."""
    model, study = context.partition_key, find_study(UNION_GAIN)
    lake = spark.lakehouse()
    cells, todo = [], []
    if study.settings(settings.config).enabled:
        versions = {name: lake.version(name) for name in ("eval_results", "models")}
        with inputs_checked():
            evaluations, rows = union_gain_evaluations(lake, model, versions)
        cells = union_gain_cells(model, model_spec(settings, model), evaluations)
        todo = missing_cells(cells, finished_cell_ids(lake, UNION_GAIN, model))
        by_arm = {r.arm: r for r in rows.itertuples()}
        if todo:  # both arms in one commit: a gain is never read from half a pair
            write_cells(lake, [(cell, _cell_row(by_arm[cell.arm], versions, context.run.run_id)) for cell in todo])
    return cells_result(study, settings, lake, model, cells, computed=len(todo))
