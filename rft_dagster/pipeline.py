"""The loop as a sequence of Dagster job runs, and the summary printed at the end.

Runs go to the persistent instance in `$RFT_HOME/dagster`, so Dagit shows them afterwards.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, DagsterInstance, Definitions

from rft.filter.pools import UNION_POOL, own_pool
from rft.models.catalog import UnknownModelError
from rft_dagster.job_runs import is_imported, run_job, stages
from rft_dagster.partitions import models_partitions
from spark_jobs.imported_paths import imported_models
from spark_jobs.lakehouse import Lakehouse


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
    """Questions, then each model's SFT/sampling/verification, the cross-model sets, RFT and eval, the marts."""
    instance, defs = instance or DagsterInstance.get(), _defs(defs)
    check_models(defs, models, instance)
    instance.add_dynamic_partitions(models_partitions.name, models)
    run_job(defs, "questions_job", instance)
    for model in models:
        run_job(defs, "per_model_job", instance, model)
    return _cross_model_and_rft(defs, instance, marts)


def backfill_model(model: str, instance: DagsterInstance | None = None, defs: Definitions | None = None,
                   marts: bool = True) -> list[str]:
    """Sample only the new model; then recompute what depends on every model, marts included."""
    instance, defs = instance or DagsterInstance.get(), _defs(defs)
    check_models(defs, [model], instance)
    instance.add_dynamic_partitions(models_partitions.name, [model])
    if not instance.get_latest_materialization_event(AssetKey("questions")):
        run_job(defs, "questions_job", instance)
    run_job(defs, "per_model_job", instance, model)
    return _cross_model_and_rft(defs, instance, marts)


def _cross_model_and_rft(defs: Definitions, instance: DagsterInstance, marts: bool = True) -> list[str]:
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
    # Last, the dbt marts over every table (pass@k, distinct paths, difficulty, leaderboard).
    # Left out (`--no-marts`) when more models follow at once: one `rft marts` at the end then.
    if marts:
        run_job(defs, "marts_job", instance)
    return models


def summary_table(lake: Lakehouse, models: list[str]) -> str:
    """Sampled, correct and distinct paths per model and for the union; SFT and RFT accuracy."""
    spark = lake.spark
    counts = spark.sql(
        """
        SELECT v.model, count(*) AS sampled, sum(cast(v.is_correct AS INT)) AS correct
        FROM rft.verified_paths v GROUP BY v.model
        """
    ).toPandas().set_index("model")
    distinct = spark.sql("SELECT pool, count(*) AS n FROM rft.distinct_paths GROUP BY pool").toPandas()
    distinct = dict(zip(distinct["pool"], distinct["n"]))
    acc = spark.sql(
        "SELECT model, training_set, accuracy, ci_low, ci_high FROM rft.eval_results WHERE metric = 'maj1@1'"
    ).toPandas()

    def accuracy(model: str, training_set: str) -> str:
        row = acc[(acc["model"] == model) & (acc["training_set"] == training_set)]
        if row.empty:
            return "-"
        r = row.iloc[0]
        return f"{100 * r.accuracy:.1f} [{100 * r.ci_low:.0f}-{100 * r.ci_high:.0f}]"

    rows = []
    for model in models:
        c = counts.loc[model] if model in counts.index else None
        rows.append({
            "model": model,
            "sampled": int(c["sampled"]) if c is not None else 0,
            "correct": int(c["correct"] or 0) if c is not None else 0,
            "distinct": int(distinct.get(own_pool(model), 0)),
            "SFT acc %": accuracy(model, "sft"),
            "RFT own acc %": accuracy(model, own_pool(model)),
            "RFT union acc %": accuracy(model, UNION_POOL),
        })
    rows.append({
        "model": "union", "sampled": int(counts["sampled"].sum()), "correct": int(counts["correct"].fillna(0).sum()),
        "distinct": int(distinct.get(UNION_POOL, 0)), "SFT acc %": "", "RFT own acc %": "", "RFT union acc %": "",
    })
    note = ("accuracy: greedy maj1@1 on the test split, [95% Wilson interval]\n"
            "dbt marts: rft_marts.pass_at_k, distinct_paths_per_question, difficulty_buckets, accuracy_leaderboard")
    return render_table(pd.DataFrame(rows)) + "\n" + note


def render_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(no rows)"
    return df.to_markdown(index=False)
