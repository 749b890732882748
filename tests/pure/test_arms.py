"""The arms over seeds: accuracy per arm, and RFT against its step-matched SFT control."""

import pandas as pd
import pytest

from rft.evaluation.arms import arm_summaries, grades_list, grades_text, matched_comparisons
from rft.evaluation.significance import holm_adjust, paired_seed_test
from rft.reporting.arm_tables import arm_table, comparison_table


def evaluation(stage, training_set, seed, grades, steps):
    correct = grades.count("1")
    return {"model": "a", "stage": stage, "training_set": training_set, "seed": seed, "grades": grades,
            "accuracy": correct / len(grades), "ci_low": 0.0, "ci_high": 1.0, "n_steps": steps, "n_tokens": 10 * steps}


EVALS = [
    evaluation("sft", "sft", 42, "1000", 3), evaluation("sft", "sft", 43, "1100", 3),
    evaluation("rft", "union", 42, "1110", 5), evaluation("rft", "union", 43, "1111", 5),
    evaluation("sft_matched", "union", 42, "1100", 5), evaluation("sft_matched", "union", 43, "1000", 5),
]


def test_grades_are_one_character_per_question():
    assert grades_text([True, False, True]) == "101"
    assert grades_list("101") == [1, 0, 1]
    with pytest.raises(ValueError, match="only 0 and 1"):
        grades_list("1x")


def test_an_arm_is_summarised_over_its_seeds_with_its_steps_and_tokens():
    summary = arm_summaries(EVALS)[("a", "rft", "union")]
    assert (summary["n_seeds"], summary["mean"], summary["seeds"]) == (2, 0.875, [42, 43])
    assert (summary["n_steps"], summary["n_tokens"]) == ([5], [50])


def test_rft_is_compared_with_its_matched_control_and_with_sft_by_the_paired_seed_test():
    comparisons = matched_comparisons(EVALS)
    assert [c["versus"] for c in comparisons] == ["sft_matched", "sft"]
    matched = paired_seed_test([[1, 1, 1, 0], [1, 1, 1, 1]], [[1, 1, 0, 0], [1, 0, 0, 0]])
    assert comparisons[0]["p_value"] == matched["p_value"] and comparisons[0]["diff"] == matched["diff"]
    assert [c["p_holm"] for c in comparisons] == holm_adjust([c["p_value"] for c in comparisons])


def test_evaluations_without_grades_are_not_compared():
    old = [{**e, "grades": None} for e in EVALS]
    assert matched_comparisons(old) == []


def test_the_arm_table_shows_mean_and_spread_over_seeds():
    table = arm_table(pd.DataFrame(EVALS), ["a"])
    assert table.to_dict("records") == [{
        "model": "a", "SFT": "37.5 ± 17.7 (2 seeds)", "RFT union": "87.5 ± 17.7 (2 seeds)",
        "SFT matched union": "37.5 ± 17.7 (2 seeds)", "RFT own": "-",
    }]  # no own controls at all: no column for them
    assert list(table.columns) == ["model", "SFT", "RFT own", "RFT union", "SFT matched union"]


def test_one_seed_shows_the_wilson_interval_and_no_controls_no_control_columns():
    one = pd.DataFrame([e for e in EVALS if e["seed"] == 42 and e["stage"] != "sft_matched"])
    assert arm_table(one).to_dict("records") == [
        {"model": "a", "SFT": "25.0 [0.0-100.0]", "RFT own": "-", "RFT union": "75.0 [0.0-100.0]"}
    ]


def test_the_comparison_table_names_steps_and_both_p_values():
    rows = comparison_table(pd.DataFrame(EVALS)).to_dict("records")
    assert [(r["vs"], r["seeds"], r["steps"]) for r in rows] == [("SFT matched", "2 vs 2", "5 vs 5"),
                                                                   ("SFT", "2 vs 2", "5 vs 3")]
    assert rows[0]["change (points) [95% CI]"].startswith("+50.0")
    assert set(rows[0]) >= {"p", "p (Holm)"}
