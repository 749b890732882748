"""Scaling studies, one partition per model: each cell one training run, one evaluation, one row.

A study's cells come from the config (rft/studies/cells.py); a cell whose id already has a row in
`rft.study_results` is reused, so re-materialising computes only missing cells, and adding a
model is a backfill of its partition. Cells are written one at a time: a run stopped midway
keeps every finished cell. Nothing is sampled again: RFT vs k and RFT vs diversity read
`rft.verified_paths`. The studies that train nothing are in assets/evaluation_studies.py.
"""

from dataclasses import asdict

import dagster as dg
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.config.rft_config import RftConfig
from rft.studies.cells import (
    EVAL_METRIC, RFT_VS_DIVERSITY, RFT_VS_K, SFT_VS_DATA, StudyCell, missing_cells, rft_vs_diversity_cells,
    rft_vs_k_cells, sft_vs_data_cells,
)
from rft_dagster.asset_steps import as_examples, evaluate_checkpoints, sft_examples, train_step
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from rft_dagster.study_metadata import study_metadata, study_view
from rft_dagster.study_rows import current_points, finished_cell_ids, model_spec, write_cell
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.study_datasets import filter_fraction, first_k_distinct_paths, sampling_mismatch, with_subset_order
from spark_jobs.study_selection import own_correct_paths, paths_per_selection, select_paths


def run_cell(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    cell: StudyCell, *, stage: str, examples: pd.DataFrame, counts: dict, table_versions: dict,
) -> None:
    """Train and evaluate one cell, then write its row. `counts` may set x (a categorical cell's paths)."""
    model = context.partition_key
    home = settings.paths
    run_dir = home.run_dir("study", cell.study, model, cell.cell_id, context.run.run_id[:8])
    output_dir = home.checkpoints / model / "studies" / cell.study / cell.cell_id
    train_config = {**asdict(settings.config.train_config(stage)), "seed": cell.seed}
    context.log.info(f"{cell.study} {model} {cell.label}: training on {len(examples)} examples")
    stats = train_step(
        context, settings, lake, steps, examples=examples, train_config=train_config, run_dir=run_dir,
        output_dir=output_dir,
    )
    [metrics] = evaluate_checkpoints(
        context, settings, lake, steps, [str(output_dir)], run_dir, names=[cell.cell_id], maj_k=None
    )
    summary = metrics[EVAL_METRIC]
    write_cell(lake, cell, {
        "x": None if cell.x is None else float(cell.x), **counts,
        "n_examples": stats["n_examples"], "n_steps": stats["n_steps"],
        "n_test": summary["n"], "n_correct": summary["correct"], "accuracy": summary["accuracy"],
        "ci_low": summary["ci_low"], "ci_high": summary["ci_high"],
        "table_versions": table_versions, "checkpoint": str(output_dir), "run_id": context.run.run_id,
    })
    context.log.info(f"{cell.study} {model} {cell.label}: accuracy {summary['accuracy']:.3f} on {summary['n']}")


def selection_examples(paths: pd.DataFrame, questions: pd.DataFrame, sft: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A diversity cell's training examples (SFT data, then the selected paths) and its row's counts.

    x is the paths added, repeats included; distinct_paths counts their (question, equation list).
    """
    n_distinct = len(paths[["question_id", "equation_list"]].drop_duplicates())
    paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
    examples = pd.concat([sft, as_examples(paths)], ignore_index=True)
    return examples, {"x": float(len(paths)), "distinct_paths": n_distinct, "n_sft_rows": len(sft)}


def sampled_as_configured(lake: Lakehouse, model: str, config: RftConfig) -> tuple[dict[str, int], DataFrame]:
    """(table versions read, the model's verified paths), after checking they were drawn as the config says."""
    versions = {name: lake.version(name) for name in ("questions", "verified_paths")}
    verified = lake.table("verified_paths", versions["verified_paths"])
    problem = sampling_mismatch(verified, lake.table("sampled_paths"), model, config.sampling)
    if problem:
        raise dg.Failure(f"{problem}: materialise sampled_paths and verified_paths of {model!r} with this config first")
    return versions, verified


def _train_questions(lake: Lakehouse, version: int) -> pd.DataFrame:
    return to_pandas(lake.table("questions", version).filter(F.col("split") == "train").select("question_id", "question"))


@dg.asset(
    partitions_def=models_partitions, deps=["verified_paths"], group_name="studies", kinds={"pytorch", "delta"},
)
def rft_vs_k_study(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per k in rft.study_results: RFT on SFT data + own distinct paths among the first k samples."""
    model, config = context.partition_key, settings.config
    cells = rft_vs_k_cells(config, model, model_spec(settings, model)) if config.studies.rft_vs_k.enabled else []
    lake = spark.lakehouse()
    todo = missing_cells(cells, finished_cell_ids(lake, RFT_VS_K, model))
    if todo:
        versions, verified = sampled_as_configured(lake, model, config)
        sft = sft_examples(lake, versions["questions"])
        questions = _train_questions(lake, versions["questions"])
        for cell in todo:
            paths = to_pandas(first_k_distinct_paths(verified, model, int(cell.x)).select("question_id", "text"))
            paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
            examples = pd.concat([sft, as_examples(paths)], ignore_index=True)
            run_cell(context, settings, lake, steps, cell, stage="rft", examples=examples,
                     counts={"distinct_paths": len(paths), "n_sft_rows": len(sft)}, table_versions=versions)
    return dg.MaterializeResult(metadata=study_metadata(
        RFT_VS_K, study_view(RFT_VS_K, current_points(lake, RFT_VS_K, cells, model)), computed=len(todo),
        reused=len(cells) - len(todo), declared=config.studies.rft_vs_k.model_dump(),
    ))


@dg.asset(
    partitions_def=models_partitions, deps=["questions"], group_name="studies", kinds={"pytorch", "delta"},
)
def sft_vs_data_study(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per data fraction in rft.study_results: SFT on nested, seeded subsets of the train split."""
    model, config = context.partition_key, settings.config
    study = config.studies.sft_vs_data
    cells = sft_vs_data_cells(config, model, model_spec(settings, model)) if study.enabled else []
    lake = spark.lakehouse()
    todo = missing_cells(cells, finished_cell_ids(lake, SFT_VS_DATA, model))
    if todo:
        versions = {"questions": lake.version("questions")}
        ordered = with_subset_order(lake.table("questions", versions["questions"]), study.subset_seed)
        n_train = ordered.count()
        for cell in todo:
            subset = to_pandas(filter_fraction(ordered, cell.x, n_train).select("question", F.col("answer_text").alias("text")))
            run_cell(context, settings, lake, steps, cell, stage="sft", examples=as_examples(subset),
                     counts={"distinct_paths": 0, "n_sft_rows": len(subset)}, table_versions=versions)
    return dg.MaterializeResult(metadata=study_metadata(
        SFT_VS_DATA, study_view(SFT_VS_DATA, current_points(lake, SFT_VS_DATA, cells, model)), computed=len(todo),
        reused=len(cells) - len(todo), declared=study.model_dump(),
    ))


@dg.asset(
    partitions_def=models_partitions, deps=["verified_paths"], group_name="studies", kinds={"pytorch", "delta"},
)
def rft_vs_diversity_study(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per (selection, seed) in rft.study_results: RFT on n own paths, distinct, any correct or duplicated."""
    model, config = context.partition_key, settings.config
    study = config.studies.rft_vs_diversity
    cells = rft_vs_diversity_cells(config, model, model_spec(settings, model)) if study.enabled else []
    lake = spark.lakehouse()
    todo = missing_cells(cells, finished_cell_ids(lake, RFT_VS_DIVERSITY, model))
    if todo:
        versions, verified = sampled_as_configured(lake, model, config)
        # Computed once: the dedup UDF runs once, not once per selection and count.
        distinct = lake.computed_once(first_k_distinct_paths(verified, model, config.sampling.k))
        correct = own_correct_paths(verified, model)
        n_distinct_all = distinct.count()
        n = paths_per_selection(study.n_paths, n_distinct_all)
        context.log.info(f"{RFT_VS_DIVERSITY} {model}: {n} paths per cell ({n_distinct_all} distinct paths)")
        sft = sft_examples(lake, versions["questions"])
        questions = _train_questions(lake, versions["questions"])
        for cell in todo:
            paths = to_pandas(select_paths(cell.arm, distinct=distinct, correct=correct, n=n,
                                           seed=study.selection_seed, duplicate_share=study.duplicate_share))
            examples, counts = selection_examples(paths, questions, sft)
            run_cell(context, settings, lake, steps, cell, stage="rft", examples=examples, counts=counts,
                     table_versions=versions)
    return dg.MaterializeResult(metadata=study_metadata(
        RFT_VS_DIVERSITY, study_view(RFT_VS_DIVERSITY, current_points(lake, RFT_VS_DIVERSITY, cells, model)),
        computed=len(todo), reused=len(cells) - len(todo), declared=study.model_dump(),
    ))
