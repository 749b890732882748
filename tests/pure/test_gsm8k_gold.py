"""GSM8K's own gold solutions, all 8,792 of them, through the project's filter.

The gold solutions are what SFT trains on and what sampled paths imitate, so a rule that rejects
one of them, or keys it differently from the reference scripts, is a rule to look at again.
"""

import json
import re
from functools import cache

from rft.evaluation.reference_scoring import reference_answer
from rft.filter.answers import extract_answer
from rft.filter.equations import equation_list
from rft.filter.path_verdict import verify_path
from rft.task.gsm8k import gsm8k_dir


@cache
def gold_solutions() -> dict[str, str]:
    """question_id -> gold solution text, for both splits."""
    solutions = {}
    for split in ("train", "test"):
        lines = (gsm8k_dir() / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            solutions[f"{split}-{i:05d}"] = json.loads(line)["answer"]
    return solutions


def reference_key(text: str) -> str:
    """The reference scripts' dedup key: `<<...>>` contents without `>`, joined by `|`, spaces removed.

    Only the space character goes; tabs and newlines stay, unlike the project's key.
    """
    return "|".join(re.findall(r"<<([^>]*)>>", text)).replace(" ", "")


def test_reference_key_rule_on_tiny_inputs():
    assert reference_key("a <<2 * 3=6>> b <<6+1=7>>\n#### 7") == "2*3=6|6+1=7"
    assert reference_key("<<1>0=1>> <<2=2>>") == "2=2"  # an annotation holding `>` is not matched
    assert reference_key("<<1\t=1>>") == "1\t=1"
    assert reference_key("no annotations") == ""


def test_every_gold_solution_passes_the_filter_with_its_own_answer():
    solutions = gold_solutions()
    assert len(solutions) == 7473 + 1319
    failures = {}
    for question_id, solution in solutions.items():
        gold = extract_answer(solution)
        verdict = verify_path(solution, gold)
        if gold is None or not verdict.is_correct:
            failures[question_id] = verdict.reject_reason
    assert failures == {}


def test_floor_division_gold_solutions_pass():
    solutions = gold_solutions()
    assert "560//10=56" in solutions["train-00394"]
    assert "180//3=60" in solutions["train-04169"]
    for question_id in ("train-00394", "train-04169"):
        assert verify_path(solutions[question_id], extract_answer(solutions[question_id])).is_correct


def test_every_gold_solution_has_the_reference_dedup_key():
    differing = {
        question_id: (equation_list(solution), reference_key(solution))
        for question_id, solution in gold_solutions().items()
        if equation_list(solution) != reference_key(solution)
    }
    assert differing == {}


def test_both_answer_rules_read_the_same_gold_answers():
    """So a gold answer means the same under `scoring: strict` and `scoring: reference`."""
    differing = {
        question_id: (extract_answer(solution), reference_answer(solution))
        for question_id, solution in gold_solutions().items()
        if float(extract_answer(solution)) != float(reference_answer(solution) or "nan")
    }
    assert differing == {}
