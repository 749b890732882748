"""The embedded task: generated GSM8K-style problems that pass the filter, in several orders."""

import random
import re
from collections import Counter

import pytest

from rft.answers import extract_answer
from rft.equations import find_equations
from rft.task.generator import TEMPLATES, embedded_task, generate_problems
from rft.verify import verify_path


@pytest.fixture(scope="module")
def task():
    return embedded_task(n_train=2000, n_test=500, seed=0)


def test_a_problem_looks_like_gsm8k():
    (problem,) = generate_problems(1, seed=7, split="train")
    assert problem["question_id"] == "emb-train-00000"
    assert problem["question"].endswith("?")
    *steps, last = problem["answer"].split("\n")
    assert re.fullmatch(r"#### \d+", last)
    assert all(re.search(r"<<[^<>]+=\d+>>\d+", step) for step in steps)


def test_every_gold_answer_passes_the_filter(task):
    train, test = task
    for problem in train + test:
        verdict = verify_path(problem["answer"], extract_answer(problem["answer"]))
        assert verdict.is_correct, (problem, verdict)
        assert 2 <= verdict.n_equations <= 4
        assert 0 <= int(verdict.answer) < 1000


def test_splits_are_sized_unique_and_disjoint(task):
    train, test = task
    assert (len(train), len(test)) == (2000, 500)
    assert test[-1]["question_id"] == "emb-test-00499"
    train_questions = {p["question"] for p in train}
    assert len(train_questions) == len(train)
    assert train_questions.isdisjoint(p["question"] for p in test)


def test_generation_is_deterministic_by_seed():
    assert generate_problems(50, seed=3, split="train") == generate_problems(50, seed=3, split="train")
    assert generate_problems(50, seed=3, split="train") != generate_problems(50, seed=4, split="train")


def _order(question: str, answer: str) -> str | None:
    """The solution order of a problem: left sides with question numbers named by position.

    None when the question repeats a number, since its positions would be ambiguous.
    """
    numbers = re.findall(r"\d+", question)
    if len(set(numbers)) < len(numbers):
        return None
    position = {n: f"q{i}" for i, n in enumerate(numbers)}
    left_sides = (eq.split("=")[0] for eq in find_equations(answer))
    return "|".join(re.sub(r"\d+", lambda m: position.get(m[0], "v"), lhs) for lhs in left_sides)


def test_orders_name_question_numbers_by_position():
    question = "Ava buys 3 bags of 4 pens and 5 bags of 6 pens. How many pens?"
    assert _order(question, "<<5*6=30>>30 <<3*4=12>>12 <<30+12=42>>42") == "q2*q3|q0*q1|v+v"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.__name__)
def test_each_template_writes_several_solution_orders(template):
    orders = Counter(_order(*template(random.Random(seed))) for seed in range(200))
    orders.pop(None, None)
    common = [order for order, n in orders.items() if n >= 0.1 * orders.total()]
    assert len(common) >= 2, orders.most_common(5)


def test_the_training_set_mixes_many_solution_orders(task):
    train, _ = task
    orders = Counter(_order(p["question"], p["answer"]) for p in train)
    assert len([order for order, n in orders.items() if n >= 20]) >= 25
