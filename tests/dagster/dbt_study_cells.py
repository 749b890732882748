"""Cells of every scaling study for tests/dagster/test_dbt_marts.py, and the figures the Python owners give.

The cells are written by the study assets' own writer (spark_jobs.study_results.write_cells, ids and
settings of rft.studies.cells.StudyCell, Wilson intervals of rft.evaluation.significance); the
expected figures come from rft.studies (fits, contrasts, pretrain_loss), the code behind the Dagit
metadata, `rft studies show` and `rft report`. The scaling marts restate them in SQL.
"""

from __future__ import annotations

import math

from rft.evaluation.significance import wilson_interval
from rft.studies.cells import StudyCell
from rft.studies.contrasts import diversity_fits, pooled_arms, union_gain_fits
from rft.studies.fits import Fit
from rft.studies.pretrain_loss import STAGES, comparable_losses, pretrain_fits, pretrain_points
from rft.studies.study_summary import latest_settings, rft_vs_k_fits, sft_vs_data_fits
from spark_jobs.study_results import write_cells
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.study_accuracy import stage_accuracies

TASK = {"name": "dbt-test"}


def study_cells(a: str, b: str) -> list[list[tuple]]:
    """Batches of (study, model, varies, x, seed, arm, fixed, row) written one after the other:
    within a (study, model), a later batch is the newer setting."""
    def k(model, x, epochs, paths, correct):
        return ("rft_vs_k", model, "k", x, 0, None, {"epochs": epochs, "task": TASK},
                {"x": x, "distinct_paths": paths, "n_sft_rows": 4, "n_correct": correct})

    def data(x, rows, correct):
        return ("sft_vs_data", a, "fraction", x, 0, None, {"epochs": 1, "task": TASK},
                {"x": x, "distinct_paths": 0, "n_sft_rows": rows, "n_correct": correct})

    def arm(study, model, name, seed, x, paths, correct):
        return (study, model, "selection" if study == "rft_vs_diversity" else "training_set", None, seed, name,
                {"epochs": 1, "task": TASK}, {"x": x, "distinct_paths": paths, "n_sft_rows": 4, "n_correct": correct})

    def loss(model, value, params):
        fixed = {"task": TASK, "corpus": {"name": "test split"}, "model_spec": {"name": model}}
        return ("pretrain_loss", model, "loss", None, None, None, fixed,
                {"x": value, "distinct_paths": 0, "n_sft_rows": 0, "n_params": params, "n_tokens": 500})

    return [
        [k(a, 1, 3, 5, 6), k(a, 4, 3, 9, 9)],  # a's older setting (3 epochs): not fitted
        [k(a, 1, 1, 5, 8), k(a, 2, 1, 7, 7), k(a, 4, 1, 9, 5)],  # falling with k: a negative slope
        [k(b, 1, 1, 3, 4), k(b, 3, 1, 4, 6)],
        [data(0.25, 1, 3), data(0.5, 2, 5), data(1.0, 4, 8)],
        [arm("rft_vs_diversity", a, "distinct", 0, 4, 4, 9), arm("rft_vs_diversity", a, "distinct", 1, 4, 4, 7),
         arm("rft_vs_diversity", a, "all_correct", 0, 4, 3, 6), arm("rft_vs_diversity", a, "duplicates", 0, 4, 1, 4)],
        [arm("union_gain", a, "own", 0, 5, 5, 10), arm("union_gain", a, "union", 0, 6, 6, 15)],
        [arm("union_gain", b, "own", 0, 4, 4, 5), arm("union_gain", b, "union", 0, 6, 6, 7)],
        [loss(a, 2.5, 1000)],
        [loss(b, 3.1, 4000)],
    ]


def write_study_cells(lake: Lakehouse, a: str, b: str, n_test: int) -> None:
    for batch in study_cells(a, b):
        rows = []
        for study, model, varies, x, seed, arm, fixed, row in batch:
            cell = StudyCell(study, model, varies, x, seed, fixed, arm=arm)
            if "n_correct" in row:
                low, high = wilson_interval(row["n_correct"], n_test)
                row = {**row, "accuracy": row["n_correct"] / n_test, "ci_low": low, "ci_high": high}
            trained = 0 if study == "pretrain_loss" else 10
            rows.append((cell, {**row, "n_test": n_test, "n_examples": trained, "n_steps": trained,
                                "table_versions": {"questions": 0}, "checkpoint": "dbt-test", "run_id": "dbt-test"}))
        write_cells(lake, rows)


def _none_if_nan(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _law(fit: Fit | None) -> dict:
    if fit is None:  # fewer than two distinct x
        return {"law_intercept": None, "law_slope": None, "law_r2": None}
    return {"law_intercept": fit.a, "law_slope": fit.b, "law_r2": _none_if_nan(fit.r2)}


def owner_study_figures(lake: Lakehouse) -> dict[tuple, dict]:
    """Every figure the scaling marts hold, from the Python owners, over every row of the warehouse."""
    rows = to_pandas(lake.table("study_results").drop("table_versions"))
    current = latest_settings(rows)
    figures = {}
    for study, fits_of, name in (("rft_vs_k", rft_vs_k_fits, "k"), ("sft_vs_data", sft_vs_data_fits, "n_sft_rows")):
        points = current[current["study"] == study]
        for model, fits in fits_of(points).items():
            figures[(study, model)] = {**_law(fits[name]), "n_cells": int((points["model"] == model).sum())}
            if study == "rft_vs_k":
                figures[(study, model)]["paths_line"] = fits["distinct_paths"]
    for model, group in current[current["study"] == "rft_vs_diversity"].groupby("model"):
        arms, fits = pooled_arms(group), diversity_fits(group)
        for arm in arms:
            advantage = fits.get(f"distinct_minus_{arm}") or {}
            figures[("rft_vs_diversity", model, arm)] = {
                "pooled_accuracy": arms[arm]["accuracy"], "distinct_advantage": advantage.get("difference"),
                "distinct_advantage_ci_low": advantage.get("ci_low"),
                "distinct_advantage_ci_high": advantage.get("ci_high")}
    for model, group in current[current["study"] == "union_gain"].groupby("model"):
        gain = union_gain_fits(group)["gain"]
        figures[("union_gain", model)] = {"gain": gain["difference"], "gain_ci_low": gain["ci_low"],
                                          "gain_ci_high": gain["ci_high"]}
    losses, _ = comparable_losses(rows[rows["study"] == "pretrain_loss"])
    points = pretrain_points(losses, to_pandas(stage_accuracies(lake.table("eval_results"))))
    for stage in STAGES:
        fits, _ = pretrain_fits(points, stage)
        figures[("pretrain_loss", stage)] = {"n_models": int((points["stage"] == stage).sum())}
        for name, prefix in (("loss", "loss"), ("log_params", "params")):
            fit = fits[name] or {}
            figures[("pretrain_loss", stage)].update({
                f"{prefix}_intercept": fit.get("a"), f"{prefix}_slope": fit.get("b"),
                f"{prefix}_pearson_r": fit.get("pearson_r")})
    return figures
