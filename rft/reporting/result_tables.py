"""The tables of a results report, from small per-model frames (pandas only, no Spark).

    funnel_table(counts, pools)   # model, sampled, correct, correct %, distinct; then the union
    sft_vs_rft(accuracy)          # model, SFT, RFT own, RFT union: "41.5 [36.0-47.2]", change vs SFT

`counts`: model, sampled, correct. `pools`: pool (own:<model> or union), distinct.
`accuracy`: model, stage, training_set, accuracy, ci_low, ci_high (greedy maj1@1).
"""

from __future__ import annotations

import pandas as pd

from rft.filter.pools import UNION_POOL, own_pool


def funnel_table(counts: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Paths sampled, correct and distinct per model (its own pool), then all models (the union pool)."""
    distinct = dict(zip(pools["pool"], pools["distinct"]))
    rows = [
        {"model": r.model, "sampled": int(r.sampled), "correct": 0 if pd.isna(r.correct) else int(r.correct),
         "distinct": int(distinct.get(own_pool(r.model), 0))}
        for r in counts.sort_values("model").itertuples()
    ]
    rows.append({"model": UNION_POOL, "sampled": sum(r["sampled"] for r in rows),
                 "correct": sum(r["correct"] for r in rows), "distinct": int(distinct.get(UNION_POOL, 0))})
    table = pd.DataFrame(rows, columns=["model", "sampled", "correct", "distinct"])
    table.insert(3, "correct %", [percent(c, s) for c, s in zip(table["correct"], table["sampled"])])
    return table


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def with_interval(accuracy: float, low: float, high: float) -> str:
    """Accuracy in percent with its 95% interval: 41.5 [36.0-47.2]."""
    return f"{100 * accuracy:.1f} [{100 * low:.1f}-{100 * high:.1f}]"


def sft_vs_rft(accuracy: pd.DataFrame) -> pd.DataFrame:
    """One row per model: SFT accuracy, RFT on its own paths and on the union, each with the change vs SFT."""
    rows = []
    for model, group in accuracy.groupby("model", sort=True):
        by_set = {r.training_set: r for r in group.itertuples()}
        sft = by_set.get("sft")
        row = {"model": model, "SFT": _cell(sft, None)}
        row["RFT own"] = _cell(by_set.get(own_pool(model)), sft)
        row["RFT union"] = _cell(by_set.get(UNION_POOL), sft)
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "SFT", "RFT own", "RFT union"])


def _cell(result, sft) -> str:
    if result is None:
        return "-"
    text = with_interval(result.accuracy, result.ci_low, result.ci_high)
    if sft is not None:
        text += f" ({100 * (result.accuracy - sft.accuracy):+.1f})"
    return text
