"""The loop as a sequence of Dagster job runs, and the summary printed at the end.

Runs go to the persistent instance in `$RFT_HOME/dagster`, so Dagit shows them afterwards.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, DagsterInstance, Definitions

from rft.models.catalog import UnknownModelError
from rft.reporting.arm_tables import arm_table, comparison_table
from rft.reporting.result_tables import funnel_table
from rft_dagster.dbt_project import mart_names
from rft_dagster.job_runs import is_imported, run_job, stages
from rft_dagster.partitions import models_partitions
from rft_dagster.rounds_pipeline import run_rounds
from spark_jobs.imported_paths import imported_models
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_round
from spark_jobs.run_results import GREEDY, funnel_counts, greedy_evaluations


def _defs(defs: Definitions | None) -> Definitions:
    if defs is not None:
        return defs
    from rft_dagster.definitions import defs as default

    return default


def check_models(defs: Definitions, models: list[str], instance: DagsterInstance | None = None) -> None:
    """Every name must resolve, and none may hold imported generations, before any work starts.

    Names are resolved first, without Spark: an unknown name is refused before the server starts
    (unless Dagster recorded it as imported, which gets the message below).
    """
    settings = defs.resources["settings"]
    for name in models:
        try:
            settings.catalog.spec(name)
        except UnknownModelError:
            if instance is None or not is_imported(instance, name):
                raise
            _refuse_imported([name])
    imported = imported_models(defs.resources["spark"].lakehouse(), models)
    if imported:
        _refuse_imported(imported)


def _refuse_imported(models: list[str]) -> None:
    raise ValueError(
        f"{', '.join(models)}: generations imported with `rft import`, not a model to train and "
        "sample here (sampling would replace them); pick another model name"
    )


def run_pipeline(models: list[str], instance: DagsterInstance | None = None, defs: Definitions | None = None,
                 marts: bool = True) -> list[str]:
    """Questions, then each model's SFT/sampling/verification, the cross-model sets, RFT and eval,
    the later rounds the config asks for (rounds.n_rounds), the marts."""
    instance, defs = instance or DagsterInstance.get(), _defs(defs)
    check_models(defs, models, instance)
    instance.add_dynamic_partitions(models_partitions.name, models)
    run_job(defs, "questions_job", instance)
    for model in models:
        run_job(defs, "per_model_job", instance, model)
    every_model = _cross_model_and_rft(defs, instance)
    run_rounds(models, instance, defs)  # rounds.n_rounds > 1: sample again from the RFT models
    if marts:
        _build_marts(defs, instance)
    return every_model


def backfill_model(model: str, instance: DagsterInstance | None = None, defs: Definitions | None = None,
                   marts: bool = True) -> list[str]:
    """Sample only the new model (and its later rounds); then recompute what depends on every model."""
    instance, defs = instance or DagsterInstance.get(), _defs(defs)
    check_models(defs, [model], instance)
    instance.add_dynamic_partitions(models_partitions.name, [model])
    if not instance.get_latest_materialization_event(AssetKey("questions")):
        run_job(defs, "questions_job", instance)
    run_job(defs, "per_model_job", instance, model)
    every_model = _cross_model_and_rft(defs, instance)
    run_rounds([model], instance, defs)
    if marts:
        _build_marts(defs, instance)
    return every_model


def _cross_model_and_rft(defs: Definitions, instance: DagsterInstance) -> list[str]:
    # The union set changed, so every model's union RFT model is stale: retrain them all.
    models = sorted(instance.get_dynamic_partitions(models_partitions.name))
    run_job(defs, "cross_model_job", instance)
    # Imported models bring paths to the union; there is no checkpoint of theirs to train.
    imported = set(imported_models(defs.resources["spark"].lakehouse(), models))
    for model in models:
        if model in imported:
            stages.info("rft_job[%s] skipped: imported generations", model)
            continue
        run_job(defs, "rft_job", instance, model)
    return models


def _build_marts(defs: Definitions, instance: DagsterInstance) -> None:
    # Last, the dbt marts over every table (the summary lists them: dbt_project.mart_names).
    # Left out (`--no-marts`) when more models follow at once: one `rft marts` at the end then.
    run_job(defs, "marts_job", instance)


def summary_table(lake: Lakehouse, models: list[str]) -> str:
    """The paths funnel of `models` and the union, each model's greedy accuracy per arm (SFT, RFT own
    and union, their step-matched SFT controls), then RFT against its control and SFT, paired."""
    # Round 0, the paper's single round: later rounds are `rft rounds list`'s.
    counts, pools = funnel_counts(lake.table("verified_paths").filter(where_round(0)),
                                  lake.table("distinct_paths").filter(where_round(0)))
    table = funnel_table(counts, pools, models)
    evals = to_pandas(greedy_evaluations(lake.table("eval_results").filter(where_round(0))))
    arms = arm_table(evals, models)
    for column in arms.columns[1:]:
        table[f"{column} acc %"] = list(arms[column]) + [""]  # none for the union row
    comparisons = comparison_table(evals, models)
    note = (f"accuracy: greedy {GREEDY} on the test split; one seed: [95% Wilson interval], several: mean ± sd "
            "over seeds. SFT matched: SFT data alone for the optimizer steps of the RFT run it matches.\n"
            f"dbt marts in rft_marts: {', '.join(mart_names())}")
    parts = [render_table(table)]
    if not comparisons.empty:
        parts += ["", "RFT vs its step-matched SFT control and vs SFT (exact paired test over questions and seeds; "
                      "Holm over the rows):", render_table(comparisons)]
    return "\n".join(parts) + "\n" + note


def render_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(no rows)"
    return df.to_markdown(index=False)
