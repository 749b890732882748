"""The embedded task: generated GSM8K-style problems that pass the filter, in several orders."""

import random
import re
from collections import Counter

import pytest

from rft.filter.answers import extract_answer
from rft.filter.equations import find_equations
from rft.task.generator import (
    EASY_ITEMS, EASY_NAMES, EASY_TEMPLATES, TEMPLATES, embedded_task, generate_problems,
)
from rft.filter.path_verdict import verify_path


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


# The easy difficulty: small numbers, few names and items, still several solution orders.


@pytest.fixture(scope="module")
def easy_task():
    return embedded_task(n_train=1500, n_test=500, seed=0, difficulty="easy")


def test_the_default_difficulty_is_standard():
    assert generate_problems(30, seed=2, split="train") == generate_problems(
        30, seed=2, split="train", difficulty="standard")
    assert generate_problems(30, seed=2, split="train") != generate_problems(
        30, seed=2, split="train", difficulty="easy")


def test_an_unknown_difficulty_is_an_error():
    with pytest.raises(ValueError, match="difficulty"):
        generate_problems(3, seed=0, split="train", difficulty="hard")


def test_every_easy_gold_answer_passes_the_filter_with_small_numbers(easy_task):
    train, test = easy_task
    for problem in train + test:
        verdict = verify_path(problem["answer"], extract_answer(problem["answer"]))
        assert verdict.is_correct, (problem, verdict)
        assert 2 <= verdict.n_equations <= 3
        assert all(int(n) < 100 for n in re.findall(r"\d+", problem["answer"])), problem
        assert all(int(n) < 100 for n in re.findall(r"\d+", problem["question"])), problem


def test_easy_problems_use_few_names_and_items(easy_task):
    train, _ = easy_task
    words = Counter(w for p in train for w in re.findall(r"[A-Za-z]+", p["question"]))
    assert {w for w in words if w[0].isupper()} - {"How"} <= {n for n, _ in EASY_NAMES} | {
        "Saturday", "Sunday", "He", "She"}
    assert all(words[name] >= 100 for name, _ in EASY_NAMES)
    assert all(words[item] >= 100 for item in EASY_ITEMS)


def test_easy_splits_are_sized_unique_disjoint_and_deterministic(easy_task):
    train, test = easy_task
    assert (len(train), len(test)) == (1500, 500)
    assert len({p["question"] for p in train}) == len(train)
    assert {p["question"] for p in train}.isdisjoint(p["question"] for p in test)
    assert embedded_task(40, 10, seed=0, difficulty="easy")[0] == train[:40]
    assert generate_problems(50, 3, "train", difficulty="easy") == generate_problems(
        50, 3, "train", difficulty="easy")
    assert generate_problems(50, 3, "train", difficulty="easy") != generate_problems(
        50, 4, "train", difficulty="easy")


@pytest.mark.parametrize("template", EASY_TEMPLATES, ids=lambda t: t.__name__)
def test_each_easy_template_writes_several_solution_orders(template):
    orders = Counter(_order(*template(random.Random(seed))) for seed in range(200))
    orders.pop(None, None)
    common = [order for order, n in orders.items() if n >= 0.15 * orders.total()]
    assert len(common) >= 2, orders.most_common(5)


def test_the_easy_training_set_mixes_many_solution_orders(easy_task):
    train, _ = easy_task
    orders = Counter(_order(p["question"], p["answer"]) for p in train)
    orders.pop(None, None)
    assert len([order for order, n in orders.items() if n >= 20]) >= 18
