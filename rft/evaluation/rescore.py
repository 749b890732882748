"""Stored greedy evaluations graded again under both answer rules, and where the rules disagree.

    rows = pd.read_parquet("benches/results/gsm8k_controls/sft-s42.eval.parquet")
    rescore_rows(rows, gold)   # gold: {question_id: canonical gold answer}
    # {"maj1@1": {"n": 1319, "stored_correct": 436, "strict_correct": 436, "reference_correct": ...,
    #             "strict_only": ..., "reference_only": ..., "answers_differ": ..., "examples": {...}}}

`strict_only` and `reference_only` count the questions one rule grades correct and the other
not; `answers_differ` counts those where the rules read different answers (a value, or none),
whatever the verdicts.

Rows are those of `rft.steps.evaluate` (question_id, metric, text, answer, is_correct). Only
maj1@1 rows can be graded again: a maj1@K row keeps one text of its K, and the vote needs all
of them, so those metrics are reported as skipped.
"""

from __future__ import annotations

import pandas as pd

from rft.evaluation.scoring import score_greedy

GREEDY = "maj1@1"
EXAMPLE_CHARS = 160  # enough to show the `####` line and what follows it


def rescore_rows(rows: pd.DataFrame, gold: dict[str, str], n_examples: int = 3) -> dict[str, dict]:
    """Per metric: the stored count of correct answers, both rules' counts, and their disagreements."""
    report: dict[str, dict] = {}
    for metric, group in rows.groupby("metric", sort=True):
        if metric != GREEDY:
            report[metric] = {"skipped": "a maj1@K row stores one of its K texts; the vote needs all of them"}
            continue
        questions = [{"question_id": q, "question": "", "gold_answer": gold[q]} for q in group["question_id"]]
        graded = score_greedy(questions, dict(zip(group["question_id"], group["text"])))
        strict_only = [r for r in graded if r["is_correct"] and not r["is_correct_reference"]]
        reference_only = [r for r in graded if r["is_correct_reference"] and not r["is_correct"]]
        answers_differ = [r for r in graded if not _same_answer(r["answer"], r["answer_reference"])]
        report[metric] = {
            "n": len(graded),
            "stored_correct": int(group["is_correct"].sum()),
            "strict_correct": sum(r["is_correct"] for r in graded),
            "reference_correct": sum(r["is_correct_reference"] for r in graded),
            "strict_only": len(strict_only),
            "reference_only": len(reference_only),
            "answers_differ": len(answers_differ),
            "examples": {
                "strict_only": [_example(r, gold) for r in strict_only[:n_examples]],
                "reference_only": [_example(r, gold) for r in reference_only[:n_examples]],
                "answers_differ": [_example(r, gold) for r in answers_differ[:n_examples]],
            },
        }
    return report


def _same_answer(strict: str | None, reference: str | None) -> bool:
    """Whether both rules read the same value, or both read none."""
    if strict is None or reference is None:
        return strict is reference
    return float(strict) == float(reference)  # both are plain decimal strings by construction


def _example(row: dict, gold: dict[str, str]) -> dict:
    """One disagreement, short: both rules' answers and the end of the text from its first `####`."""
    text = row["text"] or ""
    marker = text.find("####")
    return {
        "question_id": row["question_id"],
        "gold": gold[row["question_id"]],
        "strict_answer": row["answer"],
        "reference_answer": row["answer_reference"],
        "text_from_marker": text[marker if marker >= 0 else max(0, len(text) - EXAMPLE_CHARS):][:EXAMPLE_CHARS],
    }
