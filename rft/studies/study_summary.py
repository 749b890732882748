"""The numeric studies' cells as points, with the fitted curves each claims, ready for plots and JSON.

    fits = rft_vs_k_fits(points)      # per model: accuracy ~ a + b ln(k), and ~ a + b * distinct paths
    fits = sft_vs_data_fits(points)   # per model: accuracy ~ a + b ln(SFT examples)
    rft_vs_k_figures(points)          # one JSON-able entry per model: x, y, intervals, n, its fits
    sft_vs_data_figures(points)
    latest_settings(rows)             # per (study, model): only the cells of the newest cell's settings

`points` is a pandas frame of `rft.study_results` rows (model, x, distinct_paths, n_sft_rows,
n_test, n_correct, accuracy, ci_low, ci_high). The categorical studies' figures are in
rft/studies/contrasts.py; pre-training loss, which joins every model's evaluations, in
rft/studies/pretrain_loss.py.
"""

from __future__ import annotations

import json

import pandas as pd

from rft.studies.cells import RFT_VS_K, SFT_MATCHED_ARM, SFT_VS_DATA
from rft.studies.fits import Fit, fit_if_possible, fit_line, fit_log_linear

Fits = dict[str, dict[str, Fit | None]]


def split_controls(points: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the RFT cells, their step-matched SFT control cells): a law is fitted to the RFT cells only."""
    if "arm" not in points.columns:
        return points, points.iloc[:0]
    control = points["arm"] == SFT_MATCHED_ARM
    return points[~control], points[control]


def rft_vs_k_fits(points: pd.DataFrame) -> Fits:
    points, _ = split_controls(points)
    return {
        model: {
            "k": fit_if_possible(fit_log_linear, list(group["x"]), list(group["accuracy"])),
            "distinct_paths": fit_if_possible(fit_line, list(group["distinct_paths"]), list(group["accuracy"])),
        }
        for model, group in points.groupby("model", sort=True)
    }


def sft_vs_data_fits(points: pd.DataFrame) -> Fits:
    return {
        model: {"n_sft_rows": fit_if_possible(fit_log_linear, list(group["n_sft_rows"]), list(group["accuracy"]))}
        for model, group in points.groupby("model", sort=True)
    }


def rft_vs_k_figures(points: pd.DataFrame) -> list[dict]:
    """Per model: its RFT cells with their fits, and beside them their step-matched SFT controls."""
    trained, controls = split_controls(points)
    entries = curve_figures(RFT_VS_K, trained, rft_vs_k_fits(trained))
    for entry in entries:
        group = controls[controls["model"] == entry["model"]].sort_values(["x", "seed"])
        if not group.empty:
            entry["sft_matched"] = {
                "x": [float(v) for v in group["x"]], "seed": [int(v) for v in group["seed"]],
                "n_steps": [int(v) for v in group["n_steps"]], "y": [round(float(v), 4) for v in group["accuracy"]],
                "ci_low": [round(float(v), 4) for v in group["ci_low"]],
                "ci_high": [round(float(v), 4) for v in group["ci_high"]],
                "n": [int(v) for v in group["n_test"]], "correct": [int(v) for v in group["n_correct"]],
                "cell_id": list(group["cell_id"]),
            }
    return entries


def sft_vs_data_figures(points: pd.DataFrame) -> list[dict]:
    return curve_figures(SFT_VS_DATA, points, sft_vs_data_fits(points))


def curve_figures(study: str, points: pd.DataFrame, fits: Fits) -> list[dict]:
    """One entry per model: its cells' x, y (accuracy), intervals and n in x order, and its `fits`."""
    entries = []
    for model, group in points.sort_values(["model", "x", "seed"]).groupby("model", sort=True):
        entries.append({
            "study": study, "model": model, "varies": group["varies"].iloc[0],
            "x": [float(v) for v in group["x"]], "seed": [int(v) for v in group["seed"]],
            "distinct_paths": [int(v) for v in group["distinct_paths"]],
            "n_sft_rows": [int(v) for v in group["n_sft_rows"]],
            "y": [round(float(v), 4) for v in group["accuracy"]],
            "ci_low": [round(float(v), 4) for v in group["ci_low"]],
            "ci_high": [round(float(v), 4) for v in group["ci_high"]],
            "n": [int(v) for v in group["n_test"]], "correct": [int(v) for v in group["n_correct"]],
            "cell_id": list(group["cell_id"]),
            "fits": {name: (fit.to_dict() if fit else None) for name, fit in fits[model].items()},
        })
    return entries


def settings_key(config_json: str) -> str:
    """A cell's settings without its own value, arm and seed: equal for every cell of one study run,
    its step-matched controls included."""
    settings = json.loads(config_json)
    # `matches`: a step-matched control's RFT cell (rft.studies.cells.matched_control); the rest it shares.
    return json.dumps({k: v for k, v in settings.items() if k not in ("x", "seed", "arm", "matches")}, sort_keys=True)


def latest_settings(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (study, model), the cells sharing the settings of the most recently computed cell.

    `rft.study_results` keeps the cells of every setting tried (a changed config adds cells and
    keeps the old ones as their record); a plot or a fit must not mix them.
    """
    if rows.empty:
        return rows
    keyed = rows.assign(_settings=rows["config"].map(settings_key))
    newest = keyed.sort_values("computed_at").groupby(["study", "model"]).tail(1)[["study", "model", "_settings"]]
    return keyed.merge(newest, on=["study", "model", "_settings"], how="inner").drop(columns="_settings")
