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
import pandas as pd
from pyspark.sql import functions as F

from rft.task.prompts import heldout_text
from rft.studies.cells import PRETRAIN_LOSS, UNION_GAIN, missing_cells, pretrain_loss_cell, union_gain_cells
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from rft_dagster.study_rows import current_points, finished_cell_ids, model_spec, write_cell, write_cells
from rft_dagster.study_metadata import pretrain_view, study_metadata, study_view
from spark_jobs.lakehouse import Lakehouse, export_parquet, to_pandas, where_equals, where_in
from spark_jobs.study_accuracy import rft_set_evaluations, stage_accuracies

MANIFEST_FIELDS = ("dataset", "source_models", "rows_version", "table_versions", "n_rft_rows")


def heldout_corpus(lake: Lakehouse, version: int) -> pd.DataFrame:
    """The test split's questions with their gold solutions, one document each (column text)."""
    test = to_pandas(lake.table("questions", version).filter(F.col("split") == "test")
                     .select("question", "answer_text").orderBy("question_id"))
    return pd.DataFrame({"text": [heldout_text(q, a) for q, a in zip(test["question"], test["answer_text"])]})


@dg.asset(partitions_def=models_partitions, deps=["questions"], group_name="studies", kinds={"pytorch", "delta"})
def heldout_loss(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per base model in rft.study_results: its mean per-token loss on the test split's gold solutions."""
    model, config = context.partition_key, settings.config
    study = config.studies.pretrain_loss
    cells = [pretrain_loss_cell(config, model, model_spec(settings, model))] if study.enabled else []
    lake = spark.lakehouse()
    todo = missing_cells(cells, finished_cell_ids(lake, PRETRAIN_LOSS, model))
    for cell in todo:
        versions = {"questions": lake.version("questions")}
        run_dir = settings.paths.run_dir("study", PRETRAIN_LOSS, model, cell.cell_id, context.run.run_id[:8])
        heldout_corpus(lake, versions["questions"]).to_parquet(run_dir / "heldout.parquet", index=False)
        base_dir = settings.paths.checkpoints / model / "base"
        corpus = None
        if not (base_dir / "config.json").exists():  # a tiny base is built from it, as SFT would: rft.steps.train
            corpus = run_dir / "corpus.parquet"
            export_parquet(lake.table("questions", versions["questions"]).filter(F.col("split") == "train")
                           .select("question", F.col("answer_text").alias("answer")), corpus)
        spec = {
            "base": {"spec": model_spec(settings, model), "dir": str(base_dir)},
            "corpus_path": corpus and str(corpus), "texts": str(run_dir / "heldout.parquet"),
            "max_length": study.max_length, "batch_size": study.batch_size,
            "output": str(run_dir / "heldout_loss.json"), "seed": config.task.seed,
        }
        steps.run(context, "heldout_loss", spec, run_dir / "spec.json")
        result = json.loads((run_dir / "heldout_loss.json").read_text())
        write_cell(lake, cell, {
            "x": result["loss"], "distinct_paths": 0, "n_sft_rows": 0, "n_examples": 0, "n_steps": 0,
            "n_test": result["n_texts"], "n_params": result["n_params"], "n_tokens": result["n_tokens"],
            "table_versions": versions, "checkpoint": str(base_dir), "run_id": context.run.run_id,
        })
        context.log.info(f"{PRETRAIN_LOSS} {model}: {result['loss']:.4f} nats per token over "
                         f"{result['n_tokens']} tokens ({result['n_params']} parameters)")
    rows = current_points(lake, PRETRAIN_LOSS, cells, model)
    return dg.MaterializeResult(metadata={
        "cells_computed": len(todo), "cells_reused": len(cells) - len(todo),
        "declared": dg.MetadataValue.json(study.model_dump()),
        **({"loss": dg.MetadataValue.float(float(rows["x"].iloc[0])), "n_params": int(rows["n_params"].iloc[0]),
            "n_tokens": int(rows["n_tokens"].iloc[0])} if not rows.empty else {}),
    })


@dg.asset(deps=["heldout_loss", "eval_results"], group_name="studies", kinds={"spark"})
def pretrain_loss_study(context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """Every model's held-out loss against its SFT and RFT accuracy, fitted across models, with Pearson's r."""
    models = sorted(context.instance.get_dynamic_partitions("models"))
    lake = spark.lakehouse()
    versions = {name: lake.version(name) for name in ("study_results", "eval_results")}
    loss_rows = to_pandas(lake.table("study_results", versions["study_results"])
                          .filter(where_equals(study=PRETRAIN_LOSS)).filter(where_in("model", models))
                          .drop("table_versions"))
    accuracies = to_pandas(stage_accuracies(lake.table("eval_results", versions["eval_results"]))
                           .filter(where_in("model", models)))
    view = pretrain_view(loss_rows, accuracies)
    view.left_out.update({m: "no heldout_loss cell yet" for m in models if m not in set(loss_rows["model"])})
    for entry in view.entries:
        for fit, why in entry["no_fit"].items():
            context.log.info(f"{PRETRAIN_LOSS} {entry['stage']} vs {fit}: no fit, {why}")
    return dg.MaterializeResult(metadata={
        **study_metadata(PRETRAIN_LOSS, view, computed=0, reused=len(view.table),
                         declared=settings.config.studies.pretrain_loss.model_dump()),
        "models": dg.MetadataValue.json(models), "table_versions": dg.MetadataValue.json(versions),
    })


def set_evaluations(lake: Lakehouse, model: str, versions: dict[str, int]) -> tuple[dict[str, dict], pd.DataFrame]:
    """Each arm's evaluation and checkpoint, as the cell's settings and as rows; dg.Failure when missing or stale."""
    rows = to_pandas(rft_set_evaluations(lake.table("eval_results", versions["eval_results"]),
                                         lake.table("models", versions["models"]), model))
    missing = sorted({"own", "union"} - set(rows["arm"]))
    if missing:
        raise dg.Failure(f"rft.eval_results holds no greedy evaluation of {model!r} after RFT on {' or '.join(missing)}: "
                         "materialise rft_model and eval_results of it (rft_training_sets: [own, union]) first")
    stale = rows[rows["checkpoint"] != rows["trained_checkpoint"]]
    if not stale.empty:
        raise dg.Failure(f"the evaluation of {model!r} on {', '.join(stale['training_set'])} is not of its current "
                         "checkpoint (rft.models): materialise eval_results of it first")
    evaluations = {}
    for r in rows.itertuples():
        manifest = json.loads(r.data_manifest or "{}")
        if manifest.get("rft_rows") is None or manifest.get("sft_rows") is None:
            raise dg.Failure(f"rft.models records no training-set sizes for {model!r} on {r.training_set} "
                             "(data_manifest rft_rows, sft_rows): materialise rft_model of it again")
        evaluations[r.arm] = {
            "training_set": r.training_set, "checkpoint": r.checkpoint, "eval_run_id": r.eval_run_id,
            "train_config": json.loads(r.train_config),
            "manifest": {k: manifest.get(k) for k in MANIFEST_FIELDS},
        }
    return evaluations, rows


@dg.asset(partitions_def=models_partitions, deps=["eval_results"], group_name="studies", kinds={"spark", "delta"})
def union_gain_study(context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource) -> dg.MaterializeResult:
    """Two rows per model in rft.study_results: its RFT on own paths and on the union, as evaluated; the gain."""
    model, study = context.partition_key, settings.config.studies.union_gain
    lake = spark.lakehouse()
    cells, todo = [], []
    if study.enabled:
        versions = {name: lake.version(name) for name in ("eval_results", "models")}
        evaluations, rows = set_evaluations(lake, model, versions)
        cells = union_gain_cells(model, model_spec(settings, model), evaluations)
        todo = missing_cells(cells, finished_cell_ids(lake, UNION_GAIN, model))
        by_arm = {r.arm: r for r in rows.itertuples()}
        written = []
        for cell in todo:
            r = by_arm[cell.arm]
            manifest = json.loads(r.data_manifest)
            written.append((cell, {
                "x": float(manifest["rft_rows"]), "distinct_paths": int(manifest["rft_rows"]),
                "n_sft_rows": int(manifest["sft_rows"]), "n_examples": int(r.n_examples), "n_steps": int(r.n_steps),
                "n_test": int(r.n_test), "n_correct": int(r.n_correct), "accuracy": float(r.accuracy),
                "ci_low": float(r.ci_low), "ci_high": float(r.ci_high), "table_versions": versions,
                "checkpoint": r.checkpoint, "run_id": context.run.run_id,
            }))
        if written:  # both arms in one commit: a gain is never read from half a pair
            write_cells(lake, written)
    return dg.MaterializeResult(metadata=study_metadata(
        UNION_GAIN, study_view(UNION_GAIN, current_points(lake, UNION_GAIN, cells, model)),
        computed=len(todo), reused=len(cells) - len(todo), declared=study.model_dump(),
    ))
