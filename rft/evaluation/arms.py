"""The arms the loop trains and compares, and how their seeds' results are summarised.

    SFT          stage "sft", training set "sft": the base model on the gold solutions
    RFT          stage "rft", training set own:<model> or union: gold solutions + distinct paths
    SFT_MATCHED  stage "sft_matched", training set = the RFT set it matches: the gold solutions
                 alone, for exactly as many optimizer steps as that RFT checkpoint (same seed)

RFT trains on more rows for the same epochs, so it takes more optimizer steps than SFT; only
the step-matched control tells a gain from the data apart from a gain from more training.

    grades_text([True, False])                 # "10": one character per test question
    arm_summaries(rows)                        # mean and spread over seeds per (model, stage, set)
    matched_comparisons(rows)                  # RFT vs its control and vs SFT: paired seed tests, Holm
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rft.evaluation.significance import holm_adjust, paired_seed_test, seed_summary

SFT = "sft"
RFT = "rft"
SFT_MATCHED = "sft_matched"
STAGES = (SFT, RFT, SFT_MATCHED)


def grades_text(correct: Iterable[bool]) -> str:
    """Per-question grades as stored in rft.eval_results.grades: "1" right, "0" wrong, in question order."""
    return "".join("1" if c else "0" for c in correct)


def grades_list(text: str) -> list[int]:
    if any(c not in "01" for c in text):
        raise ValueError(f"grades hold only 0 and 1, got {text[:20]!r}")
    return [int(c) for c in text]


def arm_key(row: dict) -> tuple[str, str, str]:
    return row["model"], row["stage"], row["training_set"]


def arm_summaries(rows: Sequence[dict]) -> dict[tuple[str, str, str], dict]:
    """Per (model, stage, training_set): seed_summary of its accuracies, with its seeds, steps and tokens.

    `rows`: one evaluation per seed (one metric), dicts with model, stage, training_set, seed,
    accuracy, n_steps, n_tokens.
    """
    arms: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        arms.setdefault(arm_key(row), []).append(row)
    out = {}
    for key, group in arms.items():
        group = sorted(group, key=lambda r: r["seed"])
        out[key] = {**seed_summary([float(r["accuracy"]) for r in group]),
                    "seeds": [int(r["seed"]) for r in group],
                    "n_steps": _distinct(r.get("n_steps") for r in group),
                    "n_tokens": _distinct(r.get("n_tokens") for r in group)}
    return out


def _distinct(values: Iterable) -> list:
    return sorted({int(v) for v in values if v is not None and v == v})


def matched_comparisons(rows: Sequence[dict]) -> list[dict]:
    """Each RFT arm against its step-matched SFT control and against SFT, paired over questions and seeds.

    `rows`: as for `arm_summaries`, with `grades`. A comparison needs every seed of both arms
    graded on the same questions; one without grades (rows from before they were recorded)
    is left out. The p-values of all comparisons made are Holm-adjusted together: they are
    one family, read side by side.
    """
    arms: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        arms.setdefault(arm_key(row), []).append(row)
    out = []
    for (model, stage, training_set), group in sorted(arms.items()):
        if stage != RFT:
            continue
        for baseline in ((model, SFT_MATCHED, training_set), (model, SFT, SFT)):
            a, b = seed_grades(group), seed_grades(arms.get(baseline, []))
            if a is None or b is None or len(a[0]) != len(b[0]):
                continue
            test = paired_seed_test(a, b)
            out.append({"model": model, "training_set": training_set, "versus": baseline[1],
                        "seeds_rft": test["seeds_a"], "seeds_versus": test["seeds_b"],
                        "n_questions": test["n_questions"], "diff": test["diff"],
                        "ci_low": test["ci_low"], "ci_high": test["ci_high"], "p_value": test["p_value"]})
    for comparison, adjusted in zip(out, holm_adjust([c["p_value"] for c in out])):
        comparison["p_holm"] = adjusted
    return out


def seed_grades(group: Sequence[dict]) -> list[list[int]] | None:
    """An arm's per-question grades, one list per seed in seed order; None if a seed has none."""
    if not group or any(not r.get("grades") for r in group):
        return None
    grades = [grades_list(r["grades"]) for r in sorted(group, key=lambda r: r["seed"])]
    return grades if len({len(g) for g in grades}) == 1 else None
