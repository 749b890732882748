"""Pre-training loss vs accuracy across models: each base model's held-out loss next to its accuracy.

    losses, left_out = comparable_losses(loss_rows)        # one loss per model, measured alike
    points = pretrain_points(losses, accuracies)           # one row per (model, stage)
    pretrain_figures(points, losses)                       # per stage: x, y, intervals, fits, r

`loss_rows` are `rft.study_results` rows of the pretrain_loss study (x is the loss, n_params,
n_tokens, config, computed_at). `accuracies` has one row per (model, stage) with stage "sft"
or "rft" (RFT on the model's own paths) and n_test, n_correct, accuracy, ci_low, ci_high
(spark_jobs.study_accuracy.stage_accuracies). The paper's claim: loss predicts accuracy
better than parameter count, so both are fitted, each with Pearson's r.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from rft.studies.fits import Fit, fit_line, fit_log_linear, pearson

STAGES = ("sft", "rft")
STAGE_NAMES = {"sft": "SFT", "rft": "RFT (own paths)"}


def _corpus_settings(config_json: str) -> str:
    """What the loss was measured on (everything fixed but the model's own spec)."""
    fixed = json.loads(config_json)["fixed"]
    return json.dumps({k: v for k, v in fixed.items() if k != "model_spec"}, sort_keys=True)


def comparable_losses(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Each model's newest loss cell, kept when measured like the newest cell of all (same corpus).

    Returns the kept rows and, for each model left out, why.
    """
    if rows.empty:
        return rows, {}
    newest = rows.sort_values("computed_at").groupby("model").tail(1)
    corpus = newest["config"].map(_corpus_settings)
    reference = corpus.loc[newest["computed_at"].idxmax()]
    same = corpus == reference
    left_out = {m: "its loss was measured on another corpus or task: materialise heldout_loss for it"
                for m in newest.loc[~same, "model"]}
    return newest[same].sort_values("model").reset_index(drop=True), left_out


def pretrain_points(losses: pd.DataFrame, accuracies: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, stage) with both a loss and an evaluation."""
    loss = losses[["model", "x", "n_params", "n_tokens", "cell_id"]].rename(columns={"x": "loss"})
    joined = loss.merge(accuracies, on="model", how="inner", validate="one_to_many")
    return joined.sort_values(["stage", "model"]).reset_index(drop=True)


def _fit_or_reason(points: pd.DataFrame, column: str, fitter, what: str) -> tuple[dict | None, str | None]:
    models = list(points["model"])
    if len(models) < 2:
        return None, (f"one model ({models[0]}): a line needs two or more" if models else "no model")
    xs = [float(v) for v in points[column]]
    if len(set(xs)) < 2:
        return None, f"every model has the same {what}: nothing to fit"
    fit: Fit = fitter(xs, list(points["accuracy"]))
    r = pearson([math.log(v) for v in xs] if fit.log_x else xs, list(points["accuracy"]))
    return {**fit.to_dict(), "pearson_r": None if math.isnan(r) else r}, None


def pretrain_fits(points: pd.DataFrame, stage: str) -> tuple[dict, dict]:
    """(fits, why not) for one stage: accuracy = a + b loss, and accuracy = a + b ln(parameters)."""
    at = points[points["stage"] == stage]
    fits, why = {}, {}
    fits["loss"], why["loss"] = _fit_or_reason(at, "loss", fit_line, "held-out loss")
    fits["log_params"], why["log_params"] = _fit_or_reason(at, "n_params", fit_log_linear, "parameter count")
    if at.empty:
        why = {name: f"no model has a {STAGE_NAMES[stage]} evaluation (rft.eval_results) yet" for name in fits}
    return fits, {name: reason for name, reason in why.items() if reason}


def pretrain_figures(points: pd.DataFrame, losses: pd.DataFrame) -> list[dict]:
    """One entry per stage: a point per model (x: loss), with both fits or why there is none."""
    entries = []
    for stage in STAGES:
        at = points[points["stage"] == stage]
        fits, why = pretrain_fits(points, stage)
        entries.append({
            "study": "pretrain_loss", "model": "all", "stage": stage, "varies": "loss",
            "models": list(at["model"]), "x": [round(float(v), 6) for v in at["loss"]],
            "n_params": [int(v) for v in at["n_params"]], "n_tokens": [int(v) for v in at["n_tokens"]],
            "y": [round(float(v), 4) for v in at["accuracy"]],
            "ci_low": [round(float(v), 4) for v in at["ci_low"]],
            "ci_high": [round(float(v), 4) for v in at["ci_high"]],
            "n": [int(v) for v in at["n_test"]], "correct": [int(v) for v in at["n_correct"]],
            "cell_id": list(at["cell_id"]), "fits": fits, "no_fit": why,
            # Models with a loss but no evaluation at this stage yet.
            "without_accuracy": sorted(set(losses["model"]) - set(at["model"])),
        })
    return entries
