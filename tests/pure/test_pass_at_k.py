"""pass@k on tiny inputs: which questions are solved within the first k samples."""

import pandas as pd

from rft.evaluation.pass_at_k import curve_by_model, k_values, pass_at_k_curve


def per_question(rows):
    return pd.DataFrame(rows, columns=["model", "n_samples", "first_correct_idx"])


def test_k_doubles_up_to_the_number_of_samples():
    assert k_values(1) == [1]
    assert k_values(4) == [1, 2, 4]
    assert k_values(100) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert k_values(0) == []


def test_a_question_counts_from_the_first_k_that_reaches_its_first_correct_sample():
    curve = pass_at_k_curve(per_question([
        ("a", 4, 0),     # solved by the first sample
        ("a", 4, 3),     # only the fourth sample is correct
        ("a", 4, None),  # never solved
        ("a", 4, 1),
    ]))
    assert curve.to_dict("records") == [
        {"model": "a", "k": 1, "n_questions": 4, "n_solved": 1, "pass_at_k": 0.25},
        {"model": "a", "k": 2, "n_questions": 4, "n_solved": 2, "pass_at_k": 0.5},
        {"model": "a", "k": 4, "n_questions": 4, "n_solved": 3, "pass_at_k": 0.75},
    ]


def test_each_model_gets_its_own_curve_up_to_its_own_k():
    curve = pass_at_k_curve(per_question([("b", 3, 2), ("a", 1, None), ("b", 3, None)]))
    assert curve_by_model(curve) == {"a": {"1": 0.0}, "b": {"1": 0.0, "2": 0.0, "3": 0.5}}


def test_the_curve_never_decreases_and_ends_at_pass_at_n():
    rows = [("m", 8, idx) for idx in (7, 0, None, 3, 5, 1)]
    curve = pass_at_k_curve(per_question(rows))
    assert list(curve["pass_at_k"]) == sorted(curve["pass_at_k"])
    assert curve.iloc[-1]["k"] == 8 and curve.iloc[-1]["n_solved"] == 5


def test_no_paths_give_an_empty_curve_that_still_has_numbers_for_columns():
    curve = pass_at_k_curve(per_question([]))
    assert curve.empty and (100 * curve["pass_at_k"]).round(1).empty
