"""The tables of a results report, from small per-model frames (pandas only, no Spark).

    funnel_table(counts, pools)   # model, sampled, correct, correct %, distinct; then the union
    funnel_table(counts, pools, ["b", "a"])   # those models' rows, in that order; then the union
    with_interval(0.415, 0.36, 0.472)   # "41.5 [36.0-47.2]"; accuracy per arm: rft/reporting/arm_tables.py

`counts`: model, sampled, correct. `pools`: pool (own:<model> or union), distinct: both from
spark_jobs.run_results.funnel_counts.
"""

from __future__ import annotations

import pandas as pd

from rft.filter.pools import UNION_POOL, own_pool


def funnel_table(counts: pd.DataFrame, pools: pd.DataFrame, models: list[str] | None = None) -> pd.DataFrame:
    """Paths sampled, correct and distinct per model (its own pool), then all models (the union pool).

    The one layout of the funnel (spark_jobs.run_results.funnel_counts counts it), for the CLI
    summaries, `rft report` and the benches. `models`: the rows to show, in that order, a model
    without paths as 0s (default: every model counted, sorted). The union row always counts
    every model, as the union pool holds them all.
    """
    distinct = dict(zip(pools["pool"], pools["distinct"]))
    sampled = dict(zip(counts["model"], counts["sampled"]))
    correct = dict(zip(counts["model"], counts["correct"]))
    shown = sorted(sampled) if models is None else list(models)
    rows = [{"model": m, "sampled": _count(sampled.get(m)), "correct": _count(correct.get(m)),
             "distinct": _count(distinct.get(own_pool(m)))} for m in shown]
    rows.append({"model": UNION_POOL, "sampled": sum(_count(v) for v in sampled.values()),
                 "correct": sum(_count(v) for v in correct.values()), "distinct": _count(distinct.get(UNION_POOL))})
    table = pd.DataFrame(rows, columns=["model", "sampled", "correct", "distinct"])
    table.insert(3, "correct %", [percent(c, s) for c, s in zip(table["correct"], table["sampled"])])
    return table


def _count(value) -> int:
    """A count as an int; a missing one (no row, or a sum over no verdicts) is 0."""
    return 0 if value is None or pd.isna(value) else int(value)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def with_interval(accuracy: float, low: float, high: float) -> str:
    """Accuracy in percent with its 95% interval: 41.5 [36.0-47.2]."""
    return f"{100 * accuracy:.1f} [{100 * low:.1f}-{100 * high:.1f}]"
