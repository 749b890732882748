"""The two answer rules side by side: the project's strict one and the published scripts' one."""

import pandas as pd
import pytest

from rft.config.rft_config import ConfigError, RftConfig, load_config
from rft.evaluation.reference_scoring import (
    correct_column,
    reference_answer,
    reference_correct,
    reference_majority,
)
from rft.evaluation.rescore import rescore_rows
from rft.evaluation.scoring import accuracy_summary, score_greedy, score_majority
from rft.filter.answers import extract_answer


@pytest.mark.parametrize(
    ("text", "strict", "reference"),
    [
        ("So 72.\n#### 72", "72", "72"),
        ("#### 72 apples", None, "72"),  # reference: the leading number; strict: the whole line
        ("#### 3/4", None, "3"),
        ("#### $18", "18", None),  # reference: a digit or minus must follow `#### `
        ("####72", "72", None),  # reference: the space after the marker is required
        ("#### 1e3", "1000", "1"),  # reference: the digits stop at `e`
        ("#### 5\n#### 6", "6", "5"),  # strict: the last marker; reference: the first
        ("#### 1,234", "1234", "1234"),
        ("#### -5", "-5", "-5"),
        ("#### 7.", "7", "7."),  # reference keeps the string, float() reads it as 7
        ("#### 1.2.3", None, None),  # float() refuses it
        ("#### -", None, None),
        ("#### ,", None, None),  # nothing left once the comma goes
        ("#### 8\0#### 9", "9", "8"),
        ("junk\0#### 9", "9", None),  # the reference reads nothing after a NUL
        ("no marker", None, None),
        ("", None, None),
    ],
)
def test_answer_extraction_strict_and_reference(text, strict, reference):
    assert extract_answer(text) == strict
    assert reference_answer(text) == reference


def test_reference_answer_of_none_is_none():
    assert reference_answer(None) is None


@pytest.mark.parametrize(
    ("answer", "gold", "correct"),
    [
        ("72", "72", True),
        ("72.", "72", True),
        ("72.00009", "72", True),  # within 1e-4
        ("72.0001", "72", False),  # 72.0001 - 72 is 1.00000000003e-4 in floats: not below 1e-4
        ("71", "72", False),
        ("-5", "-5", True),
        (None, "72", False),
        ("72", None, False),
    ],
)
def test_reference_correct_within_one_ten_thousandth(answer, gold, correct):
    assert reference_correct(answer, gold) is correct


def test_reference_majority_votes_on_strings_and_ties_go_to_the_first_counted():
    assert reference_majority(["8", None, "9", "9", "8"]) == ("8", 2)
    assert reference_majority(["9", "8", "8", "9"]) == ("9", 2)
    assert reference_majority(["72", "72.0", "72.0"]) == ("72.0", 2)  # different strings, different votes
    assert reference_majority([None, None]) == (None, 0)
    assert reference_majority([]) == (None, 0)


def test_graded_rows_carry_both_verdicts():
    questions = [{"question_id": "q1", "question": "?", "gold_answer": "72"},
                 {"question_id": "q2", "question": "?", "gold_answer": "5"}]
    rows = score_greedy(questions, {"q1": "#### 72 apples", "q2": "#### 5"})
    assert [(r["answer"], r["is_correct"], r["answer_reference"], r["is_correct_reference"]) for r in rows] == [
        (None, False, "72", True),
        ("5", True, "5", True),
    ]
    assert accuracy_summary(rows, correct_column("strict"))["correct"] == 1
    assert accuracy_summary(rows, correct_column("reference"))["correct"] == 2


def test_majority_rows_vote_by_each_rule():
    questions = [{"question_id": "q", "question": "?", "gold_answer": "6"}]
    paths = {"q": ["#### 5 apples", "#### 6", "#### 5 pears", "####6", "#### 6."]}
    (row,) = score_majority(questions, paths)
    # strict reads 6, 6 and 6 (three votes); reference reads 5, 6, 5, (none), 6.: "5" wins
    assert (row["answer"], row["votes"], row["is_correct"]) == ("6", 3, True)
    assert (row["answer_reference"], row["is_correct_reference"]) == ("5", False)


def test_scoring_mode_is_chosen_in_the_evaluation_config(tmp_path):
    assert RftConfig().evaluation.scoring == "strict"
    path = tmp_path / "reference.yaml"
    path.write_text("evaluation: {scoring: reference}")
    assert load_config(path).evaluation.scoring == "reference"
    path.write_text("evaluation: {scoring: lenient}")
    with pytest.raises(ConfigError, match="scoring"):
        load_config(path)
    with pytest.raises(ValueError, match="lenient"):
        correct_column("lenient")


def test_stored_greedy_rows_are_graded_again_both_ways():
    rows = pd.DataFrame({
        "question_id": ["q1", "q2", "q3", "q1"],
        "metric": ["maj1@1", "maj1@1", "maj1@1", "maj1@4"],
        "text": ["#### 72 apples", "#### 5", "#### 3*x=9\n#### 9", "#### 72"],
        "answer": [None, "5", "9", "72"],
        "is_correct": [False, True, True, True],
    })
    report = rescore_rows(rows, {"q1": "72", "q2": "5", "q3": "9"}, n_examples=1)
    greedy = report["maj1@1"]
    assert {key: greedy[key] for key in ("n", "stored_correct", "strict_correct", "reference_correct",
                                         "strict_only", "reference_only", "answers_differ")} == {
        "n": 3, "stored_correct": 2, "strict_correct": 2, "reference_correct": 2,
        "strict_only": 1, "reference_only": 1, "answers_differ": 2}
    assert greedy["examples"]["reference_only"] == [{
        "question_id": "q1", "gold": "72", "strict_answer": None, "reference_answer": "72",
        "text_from_marker": "#### 72 apples"}]
    assert greedy["examples"]["strict_only"][0]["reference_answer"] == "3"
    assert "skipped" in report["maj1@4"]  # one stored text of four cannot redo the vote
