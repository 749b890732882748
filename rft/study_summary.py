"""A study's cells as points, with the fitted curves each study claims, ready for plots and JSON.

    fits = rft_vs_k_fits(points)      # per model: accuracy ~ a + b ln(k), and ~ a + b * distinct paths
    fits = sft_vs_data_fits(points)   # per model: accuracy ~ a + b ln(SFT examples)
    figures(study, points)            # one JSON-able entry per cell, with its model's fit parameters

`points` is a pandas frame of `rft.study_results` rows (model, x, distinct_paths, n_sft_rows,
n_test, n_correct, accuracy, ci_low, ci_high).
"""

from __future__ import annotations

import pandas as pd

from rft.scaling_fits import Fit, fit_if_possible, fit_line, fit_log_linear
from rft.studies import RFT_VS_K

Fits = dict[str, dict[str, Fit | None]]


def rft_vs_k_fits(points: pd.DataFrame) -> Fits:
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


def study_fits(study: str, points: pd.DataFrame) -> Fits:
    return rft_vs_k_fits(points) if study == RFT_VS_K else sft_vs_data_fits(points)


def figures(study: str, points: pd.DataFrame) -> list[dict]:
    """One entry per cell: study, model, x, y (accuracy), its interval, n, and the model's fits."""
    fits = study_fits(study, points)
    entries = []
    for r in points.sort_values(["model", "x", "seed"]).itertuples():
        model_fits = {name: (fit.to_dict() if fit else None) for name, fit in fits[r.model].items()}
        entries.append({
            "study": study, "model": r.model, "varies": r.varies, "x": float(r.x), "seed": int(r.seed),
            "distinct_paths": int(r.distinct_paths), "n_sft_rows": int(r.n_sft_rows),
            "y": round(float(r.accuracy), 4), "ci_low": round(float(r.ci_low), 4), "ci_high": round(float(r.ci_high), 4),
            "n": int(r.n_test), "correct": int(r.n_correct), "cell_id": r.cell_id, "fits": model_fits,
        })
    return entries
