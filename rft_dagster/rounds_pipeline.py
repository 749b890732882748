"""Later rounds as Dagster job runs: those `rft run` and `rft backfill` owe the config, and `rft rounds add`.

Round r+1 of a model samples from its round-r RFT model (assets/rounds.py); then the round's
pools and sets are rebuilt across every model, and every model of the round trains its
round-(r+1) RFT models, their step-matched controls and their evaluations. Other models are
not sampled again.
"""

from __future__ import annotations

import pandas as pd
from dagster import DagsterInstance, Definitions
from pyspark.sql import functions as F

from rft.evaluation.arms import RFT
from rft.reporting.round_tables import round_comparison_table as round_comparisons_of
from rft_dagster.job_runs import run_job
from rft_dagster.partitions import model_round_key, models_partitions, rounds_partitions
from spark_jobs.imported_paths import imported_models
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.round_results import round_or_zero, round_progress
from spark_jobs.run_results import greedy_evaluations

def latest_round(lake: Lakehouse, model: str) -> int | None:
    """The newest round with an RFT checkpoint of `model` in rft.models; None when it has none."""
    rows = lake.table("models").filter((F.col("model") == model) & (F.col("stage") == RFT)) \
        .agg(F.max(round_or_zero()).alias("round")).collect()
    return None if not rows or rows[0]["round"] is None else int(rows[0]["round"])


def next_round(lake: Lakehouse, model: str, n_rounds: int) -> int:
    """The round `rft rounds add MODEL` runs: one after the newest, if the config allows it."""
    latest = latest_round(lake, model)
    if latest is None:
        raise ValueError(f"{model!r} has no RFT model yet: run `rft run` or `rft backfill {model}` first (round 0)")
    if latest + 1 >= n_rounds:
        raise ValueError(f"{model!r} has rounds 0..{latest}, and the config's rounds.n_rounds is {n_rounds}: "
                         f"raise n_rounds to run round {latest + 1}")
    return latest + 1


def models_in_round(lake: Lakehouse, round_: int) -> list[str]:
    """The models with sampled paths in `round_`: each has its own RFT models of that round."""
    rows = lake.table("verified_paths").filter(round_or_zero() == round_).select("model").distinct().collect()
    return sorted(row["model"] for row in rows)


def run_round(models: list[str], round_: int, instance: DagsterInstance, defs: Definitions) -> None:
    """Round `round_` of `models`: sample and verify each, rebuild the round's pools and sets across
    every model, then train and evaluate every model of the round (the union set changed)."""
    lake = defs.resources["spark"].lakehouse()
    instance.add_dynamic_partitions(rounds_partitions.name, [str(round_)])
    for model in models:
        run_job(defs, "round_per_model_job", instance, model_round_key(model, round_))
    run_job(defs, "round_cross_model_job", instance, str(round_))
    # As in round 0, every model's union RFT model of the round is stale once a model joins it.
    for model in models_in_round(lake, round_):
        run_job(defs, "round_rft_job", instance, model_round_key(model, round_))


def add_round(model: str, instance: DagsterInstance, defs: Definitions, marts: bool = True) -> int:
    """Run the next round of `model`: sample, verify, the round's pools and sets, RFT, controls, evaluation."""
    settings, lake = defs.resources["settings"], defs.resources["spark"].lakehouse()
    if model not in instance.get_dynamic_partitions(models_partitions.name):
        raise ValueError(f"{model!r} is not a model of this lakehouse: `rft run` or `rft backfill {model}` first")
    if imported_models(lake, [model]):
        raise ValueError(f"{model!r} holds imported generations: there is no model of it to sample a round from")
    round_ = next_round(lake, model, settings.config.rounds.n_rounds)
    run_round([model], round_, instance, defs)
    if marts:
        run_job(defs, "marts_job", instance)
    return round_


def run_rounds(models: list[str], instance: DagsterInstance, defs: Definitions) -> list[tuple[str, int]]:
    """The rounds after round 0 that the config's rounds.n_rounds asks for and `models` lack.

    Round by round, all models together: round r+1 may sample from round r's union RFT model
    (rounds.sample_from: union), which must have seen every model's round-r paths first.
    """
    settings, lake = defs.resources["settings"], defs.resources["spark"].lakehouse()
    trained = [m for m in models if m not in set(imported_models(lake, models))]
    ran = []
    for round_ in range(1, settings.config.rounds.n_rounds):
        due = [m for m in trained if latest_round(lake, m) == round_ - 1]
        if due:
            run_round(due, round_, instance, defs)
            ran += [(m, round_) for m in due]
    return ran


def rounds_table(lake: Lakehouse, models: list[str] | None = None) -> pd.DataFrame:
    """One row per (model, round): paths sampled and correct, questions solved, distinct and new
    distinct paths of its own pool, RFT (own) accuracy over seeds, its control and the previous round."""
    table = to_pandas(round_progress(lake.table("verified_paths"), lake.table("distinct_paths"),
                                     lake.table("eval_results")))
    return table if models is None else table[table["model"].isin(models)].reset_index(drop=True)


def round_comparison_table(lake: Lakehouse, models: list[str] | None = None) -> pd.DataFrame:
    """Each later round's RFT (own paths) against the previous round's and its step-matched control:
    change in points [95% CI], exact paired test over questions and seeds, Holm over the rows."""
    return round_comparisons_of(to_pandas(greedy_evaluations(lake.table("eval_results"))), models)
