"""pass@k of a sampling run: the share of questions with a correct path among the first k samples.

    per_question = pd.DataFrame({"model": ["a", "a"], "n_samples": [4, 4], "first_correct_idx": [2, None]})
    pass_at_k_curve(per_question)
    #   model  k  n_questions  n_solved  pass_at_k
    #   a      1  2            0         0.0
    #   a      2  2            0         0.0
    #   a      4  2            1         0.5

One row of `per_question` per (model, question) the model was asked: `n_samples` it drew
(sample indices 0..n-1) and `first_correct_idx`, the smallest sample index of a correct path
(missing: none was correct). pass@k counts the first k samples as drawn (sample_idx < k):
what a run with k samples per question would have kept. (Chen et al.'s unbiased estimator
averages over every k-subset of the n samples instead: smoother, but no run's outcome.)
"""

from __future__ import annotations

import pandas as pd

CURVE_COLUMNS = ["model", "k", "n_questions", "n_solved", "pass_at_k"]


def k_values(k_max: int) -> list[int]:
    """1, 2, 4, ... below k_max, then k_max itself: the doubling steps of a pass@k plot."""
    if k_max < 1:
        return []
    ks, k = [], 1
    while k < k_max:
        ks.append(k)
        k *= 2
    return ks + [k_max]


def pass_at_k_curve(per_question: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, k): questions, questions solved within the first k samples, their share."""
    rows = []
    for model, group in per_question.groupby("model", sort=True):
        first = group["first_correct_idx"]
        for k in k_values(int(group["n_samples"].max())):
            solved = int((first.notna() & (first < k)).sum())
            rows.append({"model": model, "k": k, "n_questions": len(group), "n_solved": solved,
                         "pass_at_k": solved / len(group)})
    return pd.DataFrame(rows, columns=CURVE_COLUMNS).astype(
        {"k": "int64", "n_questions": "int64", "n_solved": "int64", "pass_at_k": "float64"}
    )


def curve_by_model(curve: pd.DataFrame) -> dict[str, dict[str, float]]:
    """{model: {k: pass@k}}, rounded for metadata and JSON."""
    return {
        model: {str(int(r.k)): round(float(r.pass_at_k), 4) for r in group.itertuples()}
        for model, group in curve.groupby("model", sort=True)
    }
