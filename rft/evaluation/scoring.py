"""Test-set accuracy: maj1@1 (greedy) and maj1@K (majority of K samples), graded two ways.

Grading only: texts in, rows and a summary out (`rft.evaluation.eval_loop` generates the texts).
`questions` are dicts with `question_id`, `question` and `gold_answer` (the number after ####).

Every row carries both verdicts: `answer`/`is_correct` by the project's strict rule
(rft/filter/answers.py) and `answer_reference`/`is_correct_reference` by the published scripts'
rule (rft/evaluation/reference_scoring.py), so stored evaluations can be compared either way;
`accuracy_summary(rows, correct_column(scoring))` counts the one a run is configured for.
"""

from collections import Counter

from rft.evaluation.reference_scoring import (
    reference_answer,
    reference_correct,
    reference_majority,
)
from rft.evaluation.significance import wilson_interval
from rft.filter.answers import answers_match, extract_answer


def score_greedy(questions: list[dict], texts: dict[str, str]) -> list[dict]:
    """Rows {question_id, text, answer, is_correct, answer_reference, is_correct_reference}, one
    per question, from its greedy text."""
    rows = []
    for q in questions:
        text = texts[q["question_id"]]
        answer, reference = extract_answer(text), reference_answer(text)
        rows.append({"question_id": q["question_id"], "text": text, "answer": answer,
                     "is_correct": answers_match(answer, q["gold_answer"]),
                     "answer_reference": reference,
                     "is_correct_reference": reference_correct(reference, q["gold_answer"])})
    return rows


def score_majority(questions: list[dict], paths: dict[str, list[str]]) -> list[dict]:
    """maj1@K from each question's K texts (in sample order).

    Strict: ties go to the smallest canonical answer string, so the vote never depends on
    sample order. Reference: the scripts' vote over raw answer strings, ties to the first
    counted. Paths without an answer do not vote. Rows: {question_id, text (one path giving the
    strict answer, or the first path), answer, votes (for the strict answer), is_correct,
    answer_reference, is_correct_reference}.
    """
    rows = []
    for q in questions:
        texts = paths[q["question_id"]]
        answers = [extract_answer(t) for t in texts]
        answer, votes = majority_vote(answers)
        text = texts[answers.index(answer)] if answer is not None else texts[0]
        reference, _ = reference_majority([reference_answer(t) for t in texts])
        rows.append({"question_id": q["question_id"], "text": text, "answer": answer,
                     "votes": votes, "is_correct": answers_match(answer, q["gold_answer"]),
                     "answer_reference": reference,
                     "is_correct_reference": reference_correct(reference, q["gold_answer"])})
    return rows


def majority_vote(answers: list[str | None]) -> tuple[str | None, int]:
    """(most common non-None answer, its count); ties to the smallest string; (None, 0) if none."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None, 0
    answer = min(counts, key=lambda a: (-counts[a], a))
    return answer, counts[answer]


def accuracy_summary(rows: list[dict], column: str = "is_correct") -> dict:
    """n, correct, accuracy and its 95% Wilson interval over rows, counting the verdicts in `column`."""
    n = len(rows)
    correct = sum(bool(r[column]) for r in rows)
    low, high = wilson_interval(correct, n)
    return {"n": n, "correct": correct, "accuracy": correct / n if n else 0.0,
            "ci_low": low, "ci_high": high}
