"""Accuracy per arm over training seeds, and RFT against its step-matched SFT control (pandas only).

    arm_table(evals)                # model, SFT, RFT own, SFT matched own, RFT union, SFT matched union
    arm_table(evals, ["b", "a"])    # those models' rows, in that order
    comparison_table(evals)         # RFT vs matched SFT and vs SFT: change, paired seed test, Holm
    seed_means(points)              # one plotted point per arm: mean over seeds, with its spread

`evals`: greedy evaluations, one row per (model, stage, training_set, seed) with accuracy,
ci_low, ci_high, n_steps, n_tokens and grades (rft.eval_results). One seed shows the accuracy
with its 95% Wilson interval; several show the mean over seeds with its standard deviation.
The statistics are rft.evaluation's (seed_summary, paired_seed_test, holm_adjust).
"""

from __future__ import annotations

import pandas as pd

from rft.evaluation.arms import RFT, SFT, SFT_MATCHED, arm_summaries, matched_comparisons
from rft.evaluation.significance import seed_summary
from rft.filter.pools import UNION_POOL, own_pool
from rft.reporting.result_tables import with_interval

# (column, stage, training set of a model)
ARM_COLUMNS = (
    ("SFT", SFT, lambda m: SFT),
    ("RFT own", RFT, own_pool),
    ("SFT matched own", SFT_MATCHED, own_pool),
    ("RFT union", RFT, lambda m: UNION_POOL),
    ("SFT matched union", SFT_MATCHED, lambda m: UNION_POOL),
)
VERSUS = {SFT_MATCHED: "SFT matched", SFT: "SFT"}


def _records(evals: pd.DataFrame) -> list[dict]:
    return [{k: (None if _missing(v) else v) for k, v in r.items()} for r in evals.to_dict("records")]


def _missing(value) -> bool:
    return not isinstance(value, str) and bool(pd.isna(value))


def arm_cell(summary: dict | None, single: dict | None) -> str:
    """One seed: 41.5 [36.0-47.2] (Wilson); several: 41.5 ± 1.2 (3 seeds), the sd over seeds."""
    if summary is None:
        return "-"
    if summary["n_seeds"] == 1:
        return with_interval(single["accuracy"], single["ci_low"], single["ci_high"])
    return f"{100 * summary['mean']:.1f} ± {100 * summary['sd']:.1f} ({summary['n_seeds']} seeds)"


def arm_table(evals: pd.DataFrame, models: list[str] | None = None) -> pd.DataFrame:
    """One row per model, one column per arm (columns of arms no model has are left out)."""
    rows = _records(evals)
    summaries = arm_summaries(rows)
    first = {(r["model"], r["stage"], r["training_set"]): r for r in sorted(rows, key=lambda r: -r["seed"])}
    shown = sorted({r["model"] for r in rows}) if models is None else list(models)
    table = pd.DataFrame({"model": shown})
    for column, stage, training_set in ARM_COLUMNS:
        keys = [(m, stage, training_set(m)) for m in shown]
        if stage == SFT_MATCHED and not any(k in summaries for k in keys):
            continue  # controls off: no empty columns
        table[column] = [arm_cell(summaries.get(k), first.get(k)) for k in keys]
    return table


def comparison_table(evals: pd.DataFrame, models: list[str] | None = None) -> pd.DataFrame:
    """Each RFT arm vs its step-matched SFT control and vs SFT: the change in points with its 95%
    interval, the exact paired test over questions and seeds, and Holm's adjustment over all rows."""
    rows = _records(evals)
    summaries = arm_summaries(rows)
    out = []
    for c in matched_comparisons(rows):
        if models is not None and c["model"] not in models:
            continue
        versus_set = c["training_set"] if c["versus"] == SFT_MATCHED else SFT
        rft_steps = summaries[(c["model"], RFT, c["training_set"])]["n_steps"]
        versus_steps = summaries[(c["model"], c["versus"], versus_set)]["n_steps"]
        out.append({
            "model": c["model"], "RFT set": c["training_set"], "vs": VERSUS[c["versus"]],
            "seeds": f"{c['seeds_rft']} vs {c['seeds_versus']}",
            "steps": f"{_steps(rft_steps)} vs {_steps(versus_steps)}",
            "change (points) [95% CI]": f"{100 * c['diff']:+.1f} [{100 * c['ci_low']:+.1f}, {100 * c['ci_high']:+.1f}]",
            "p": _p(c["p_value"]), "p (Holm)": _p(c["p_holm"]),
        })
    columns = ["model", "RFT set", "vs", "seeds", "steps", "change (points) [95% CI]", "p", "p (Holm)"]
    return pd.DataFrame(out, columns=columns)


def _steps(values: list[int]) -> str:
    return "/".join(str(v) for v in values) or "?"


def _p(p: float) -> str:
    return f"{p:.3g}"


def seed_means(points: pd.DataFrame) -> pd.DataFrame:
    """One point per (model, stage, training_set): the mean accuracy over its seeds.

    The interval is the 95% Wilson interval with one seed, and mean ± sd over seeds with
    several (column n_seeds says which). `points`: spark_jobs.run_results.accuracy_by_training_paths.
    """
    columns = ["model", "stage", "training_set", "distinct_paths", "x_paths", "n_seeds", "accuracy", "ci_low", "ci_high"]
    rows = []
    keys = ["model", "stage", "training_set"]
    for (model, stage, training_set), group in points.groupby(keys, sort=True):
        summary = seed_summary([float(a) for a in group["accuracy"]])
        if summary["n_seeds"] == 1:
            low, high = float(group["ci_low"].iloc[0]), float(group["ci_high"].iloc[0])
        else:
            low, high = summary["mean"] - summary["sd"], summary["mean"] + summary["sd"]
        rows.append({"model": model, "stage": stage, "training_set": training_set,
                     "distinct_paths": int(group["distinct_paths"].max()), "x_paths": int(group["x_paths"].max()),
                     "n_seeds": summary["n_seeds"], "accuracy": summary["mean"], "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=columns)
