"""RFT in rounds as a table (pandas only): each later round against the previous round and its control.

    round_comparison_table(evals)   # model, round, vs, seeds, change [95% CI], p, p (Holm)

`evals`: greedy evaluations of every round, one row per (model, stage, training_set, seed) with
accuracy and grades (rft.eval_results). The statistics are rft.evaluation.round_comparisons'.
"""

from __future__ import annotations

import pandas as pd

from rft.evaluation.round_comparisons import round_comparisons

COLUMNS = ["model", "round", "vs", "seeds", "change (points) [95% CI]", "p", "p (Holm)"]


def round_comparison_table(evals: pd.DataFrame, models: list[str] | None = None) -> pd.DataFrame:
    rows = [{k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in r.items()}
            for r in evals.to_dict("records")]
    out = [{"model": c["model"], "round": c["round"], "vs": c["versus"],
            "seeds": f"{c['seeds_rft']} vs {c['seeds_versus']}",
            "change (points) [95% CI]": f"{100 * c['diff']:+.1f} [{100 * c['ci_low']:+.1f}, {100 * c['ci_high']:+.1f}]",
            "p": f"{c['p_value']:.3g}", "p (Holm)": f"{c['p_holm']:.3g}"}
           for c in round_comparisons(rows) if models is None or c["model"] in models]
    return pd.DataFrame(out, columns=COLUMNS)
