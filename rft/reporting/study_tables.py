"""A study's cells as tables for people: Dagit's cells table, `rft report` and `rft studies show`.

    curve_table(points)                    # numeric studies: x, seed, distinct paths, SFT rows, steps, accuracy
    diversity_table(points)                # categorical: arm, seed, paths added, distinct paths, ...
    union_gain_table(points)               # categorical: own or union, seed, the set's distinct paths, ...
    pretrain_table(losses, points)         # one row per model: loss, parameters, SFT and RFT accuracy
    curve_record_rows(entry)               # a recorded figure's cells as printed rows (and arm_, pretrain_)

`points` are a study's `rft.study_results` rows; `entry` one figure of `rft studies show --record`.
Accuracy is shown in percent with its 95% interval. Empty points give an empty table.
"""

from __future__ import annotations

import pandas as pd

from rft.reporting.result_tables import with_interval
from rft.studies.cells import SFT_MATCHED_ARM
from rft.studies.contrasts import DIVERSITY_ARMS, UNION_ARMS

ACCURACY = "accuracy % [95% CI]"


def _accuracy(points: pd.DataFrame) -> list[str]:
    return [with_interval(r.accuracy, r.ci_low, r.ci_high) for r in points.itertuples()]


def curve_table(points: pd.DataFrame) -> pd.DataFrame:
    """One row per cell of a numeric study, in x order: what it trained on and its accuracy."""
    if points.empty:
        return pd.DataFrame()
    points = points.assign(_control=points["arm"] == SFT_MATCHED_ARM if "arm" in points.columns else False)
    points = points.sort_values(["model", "x", "seed", "_control"])
    table = pd.DataFrame({
        "model": points["model"], points["varies"].iloc[0]: points["x"], "seed": points["seed"],
        "distinct paths": points["distinct_paths"], "SFT rows": points["n_sft_rows"],
        "steps": points["n_steps"], "n_test": points["n_test"], ACCURACY: _accuracy(points),
    })
    if points["_control"].any():  # each RFT cell, then its step-matched SFT control (same steps, no paths)
        table.insert(1, "arm", ["SFT matched" if c else "RFT" for c in points["_control"]])
    return table


def _arm_table(points: pd.DataFrame, arms: tuple[str, ...], paths: str) -> pd.DataFrame:
    """One row per cell of a categorical study, in arm order; `paths` names what x counts."""
    if points.empty:
        return pd.DataFrame()
    order = {arm: i for i, arm in enumerate(arms)}
    points = points.assign(_o=points["arm"].map(order)).sort_values(["model", "_o", "seed"])
    return pd.DataFrame({
        "model": points["model"], points["varies"].iloc[0]: points["arm"], "seed": points["seed"],
        paths: points["x"].astype(int), "distinct paths": points["distinct_paths"],
        "steps": points["n_steps"], "n_test": points["n_test"], ACCURACY: _accuracy(points),
    })


def diversity_table(points: pd.DataFrame) -> pd.DataFrame:
    return _arm_table(points, DIVERSITY_ARMS, "paths added")


def union_gain_table(points: pd.DataFrame) -> pd.DataFrame:
    return _arm_table(points, UNION_ARMS, "set's distinct paths")


def pretrain_table(losses: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """One row per model with a comparable loss: the loss, its size, its SFT and RFT accuracy."""
    if losses.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "model": losses["model"], "held-out loss (nats/token)": losses["x"].round(4),
        "parameters": losses["n_params"], "tokens scored": losses["n_tokens"],
        **{f"{stage.upper()} {ACCURACY}": [_stage_accuracy(points, m, stage) for m in losses["model"]]
           for stage in ("sft", "rft")},
    })


def _stage_accuracy(points: pd.DataFrame, model: str, stage: str) -> str:
    rows = points[(points["model"] == model) & (points["stage"] == stage)]
    return _accuracy(rows)[0] if not rows.empty else "not evaluated"


def _entry_accuracy(e: dict) -> list[str]:
    return [with_interval(y, lo, hi) for y, lo, hi in zip(e["y"], e["ci_low"], e["ci_high"])]


def curve_record_rows(e: dict) -> list[dict]:
    return [{"study": e["study"], "model": e["model"], e["varies"]: f"{x:g}", "seed": s, "distinct paths": d,
             "SFT rows": r, "n_test": n, ACCURACY: a}
            for x, s, d, r, n, a in zip(e["x"], e["seed"], e["distinct_paths"], e["n_sft_rows"], e["n"],
                                        _entry_accuracy(e))]


def arm_record_rows(e: dict) -> list[dict]:
    return [{"study": e["study"], "model": e["model"], e["varies"]: x, "seed": s, "paths": p,
             "distinct paths": d, "n_test": n, ACCURACY: a}
            for x, s, p, d, n, a in zip(e["x"], e["seed"], e["paths"], e["distinct_paths"], e["n"],
                                        _entry_accuracy(e))]


def pretrain_record_rows(e: dict) -> list[dict]:
    return [{"study": e["study"], "model": m, "stage": e["stage"], "loss": f"{x:.4f}", "parameters": p,
             "n_test": n, ACCURACY: a}
            for m, x, p, n, a in zip(e["models"], e["x"], e["n_params"], e["n"], _entry_accuracy(e))]
