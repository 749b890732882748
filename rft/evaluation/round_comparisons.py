"""RFT in rounds: each round's RFT model against the previous round's and against its control.

    round_comparisons(rows)   # per model and round >= 1: RFT own@r vs RFT own@(r-1), vs SFT matched own@r

`rows`: greedy evaluations as for `rft.evaluation.arms.matched_comparisons` (model, stage,
training_set, seed, accuracy, grades), every round together. The tests are the same exact
paired test over questions and seeds, and the p-values of every comparison made are Holm-adjusted
together, one family.
"""

from __future__ import annotations

from collections.abc import Sequence

from rft.evaluation.arms import RFT, SFT_MATCHED, arm_key, seed_grades
from rft.evaluation.significance import holm_adjust, paired_seed_test
from rft.filter.pools import own_pool, pool_model, pool_round

PREVIOUS_ROUND = "previous round"
MATCHED = "SFT matched"


def round_comparisons(rows: Sequence[dict]) -> list[dict]:
    arms: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        arms.setdefault(arm_key(row), []).append(row)
    out = []
    for (model, stage, training_set), group in sorted(arms.items()):
        round_ = pool_round(training_set)
        if stage != RFT or round_ == 0 or pool_model(training_set) != model:
            continue  # later rounds of a model's own paths only
        baselines = ((PREVIOUS_ROUND, (model, RFT, own_pool(model, round_ - 1))),
                     (MATCHED, (model, SFT_MATCHED, training_set)))
        for versus, key in baselines:
            a, b = seed_grades(group), seed_grades(arms.get(key, []))
            if a is None or b is None or len(a[0]) != len(b[0]):
                continue
            test = paired_seed_test(a, b)
            out.append({"model": model, "round": round_, "versus": versus, "seeds_rft": test["seeds_a"],
                        "seeds_versus": test["seeds_b"], "n_questions": test["n_questions"], "diff": test["diff"],
                        "ci_low": test["ci_low"], "ci_high": test["ci_high"], "p_value": test["p_value"]})
    for comparison, adjusted in zip(out, holm_adjust([c["p_value"] for c in out])):
        comparison["p_holm"] = adjusted
    return out
