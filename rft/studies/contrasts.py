"""The categorical studies as figures: accuracy per arm, and the differences the claims are about.

    difference(a, b)                # accuracy of a minus b, with Newcombe's 95% interval
    diversity_figures(points)       # per model: distinct vs all_correct vs duplicates
    union_gain_figures(points)      # per model: own vs union, and the gain

`points` are `rft.study_results` rows of one study (model, arm, x, seed, distinct_paths,
n_test, n_correct, accuracy, ci_low, ci_high, cell_id). An arm trained with several seeds is
pooled: its correct answers over its test answers, with the Wilson interval of the pool.
"""

from __future__ import annotations

import math

import pandas as pd

from rft.evaluation.significance import wilson_interval
from rft.studies.fits import fit_if_possible, fit_line, pearson

# sft_matched: the step-matched SFT control (rft.studies.cells.matched_control), one per seed.
DIVERSITY_ARMS = ("distinct", "all_correct", "duplicates", "sft_matched")
UNION_ARMS = ("own", "union")


def difference(a: dict, b: dict) -> dict:
    """a's accuracy minus b's, with Newcombe's hybrid score interval from the two Wilson intervals.

    It treats the evaluations as independent; on the same test questions they are correlated,
    so the interval errs on the wide side (as the accuracy_leaderboard mart's).
    """
    d = a["accuracy"] - b["accuracy"]
    low = d - math.sqrt((a["accuracy"] - a["ci_low"]) ** 2 + (b["ci_high"] - b["accuracy"]) ** 2)
    high = d + math.sqrt((a["ci_high"] - a["accuracy"]) ** 2 + (b["accuracy"] - b["ci_low"]) ** 2)
    return {"difference": round(d, 6), "ci_low": round(low, 6), "ci_high": round(high, 6)}


def pooled_arms(group: pd.DataFrame) -> dict[str, dict]:
    """arm -> accuracy over every seed's test answers, with its Wilson interval."""
    arms = {}
    for arm, cells in group.groupby("arm", sort=False):
        correct, n = int(cells["n_correct"].sum()), int(cells["n_test"].sum())
        low, high = wilson_interval(correct, n)
        arms[arm] = {"accuracy": correct / n if n else 0.0, "ci_low": low, "ci_high": high, "n": n}
    return arms


def _in_arm_order(group: pd.DataFrame, arms: tuple[str, ...]) -> pd.DataFrame:
    rank = {arm: i for i, arm in enumerate(arms)}
    return group.assign(_rank=group["arm"].map(rank)).sort_values(["_rank", "seed"]).drop(columns="_rank")


def _entry(study: str, model: str, group: pd.DataFrame, fits: dict) -> dict:
    return {
        "study": study, "model": model, "varies": group["varies"].iloc[0],
        "x": list(group["arm"]), "seed": [int(v) for v in group["seed"]],
        "paths": [int(v) for v in group["x"]],  # paths added (diversity) or distinct paths of the set (union)
        "distinct_paths": [int(v) for v in group["distinct_paths"]],
        "y": [round(float(v), 4) for v in group["accuracy"]],
        "ci_low": [round(float(v), 4) for v in group["ci_low"]],
        "ci_high": [round(float(v), 4) for v in group["ci_high"]],
        "n": [int(v) for v in group["n_test"]], "correct": [int(v) for v in group["n_correct"]],
        "cell_id": list(group["cell_id"]), "fits": fits,
    }


def diversity_fits(group: pd.DataFrame) -> dict:
    """Distinct minus each other arm (its step-matched SFT control too), and accuracy against distinct
    paths at one set size (RFT cells only: the control adds no paths)."""
    arms = pooled_arms(group)
    fits = {f"distinct_minus_{other}": (difference(arms["distinct"], arms[other])
                                        if "distinct" in arms and other in arms else None)
            for other in DIVERSITY_ARMS[1:]}
    trained = group[group["arm"] != "sft_matched"]
    line = fit_if_possible(fit_line, list(trained["distinct_paths"]), list(trained["accuracy"]))
    fits["distinct_paths"] = None if line is None else {
        **line.to_dict(), "pearson_r": _finite(pearson(list(trained["distinct_paths"]), list(trained["accuracy"])))}
    return fits


def diversity_figures(points: pd.DataFrame) -> list[dict]:
    """One entry per model: each cell (arm x seed), then the differences and the line in distinct paths."""
    return [
        _entry("rft_vs_diversity", model, _in_arm_order(group, DIVERSITY_ARMS), diversity_fits(group))
        for model, group in points.groupby("model", sort=True)
    ]


def union_gain_fits(group: pd.DataFrame) -> dict:
    arms = pooled_arms(group)
    return {"gain": difference(arms["union"], arms["own"]) if set(UNION_ARMS) <= set(arms) else None}


def union_gain_figures(points: pd.DataFrame) -> list[dict]:
    """One entry per model: own and union accuracy with their distinct paths, and the union's gain."""
    return [
        _entry("union_gain", model, _in_arm_order(group, UNION_ARMS), union_gain_fits(group))
        for model, group in points.groupby("model", sort=True)
    ]


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value
