"""Calculator annotations and the rejection filter, on paths like the models write."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rft.filter import path_verdict as verify
from rft.filter.equations import (
    MAX_EQUATIONS,
    check_equation,
    equation_list,
    find_equations,
)
from rft.filter.path_verdict import FILTER_VERSION, MAX_TEXT_CHARS, Verdict, verify_path
from rft.task.prompts import format_prompt, format_response

GOOD_PATH = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n"
    "#### 72"
)


def test_finds_annotations_in_order_and_builds_the_equation_list():
    assert find_equations(GOOD_PATH) == ["48/2=24", "48+24=72"]
    assert equation_list(GOOD_PATH) == "48/2=24|48+24=72"
    assert equation_list("<< 3 * 4 = 12 >>") == "3*4=12"  # whitespace does not count
    assert equation_list("No calculator here.\n#### 5") == ""


def test_annotations_do_not_nest_and_unclosed_ones_are_ignored():
    assert find_equations("<<a<<b>> <<c") == ["a<<b"]
    assert find_equations("<<" * 10_000) == []


@pytest.mark.parametrize(
    ("equation", "problem"),
    [
        ("48/2=24", None),
        ("12/60=0.2", None),
        ("10/3=3.333", None),  # within the paper's 1e-3
        ("10/3=3.33", "false_equation"),
        ("2+2=5", "false_equation"),
        ("1,000*2=2,000", None),
        ("2+2", "no_equals"),
        ("2+2==4", "several_equals"),
        ("x=4", "lhs:bad_character"),
        ("4=four", "rhs:bad_character"),
        ("=4", "lhs:empty"),
    ],
)
def test_checks_one_annotation(equation, problem):
    assert check_equation(equation) == problem


def _path(annotation: str, answer: str = "0") -> str:
    return f"So the result is <<{annotation}>>{answer}.\n#### {answer}"


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        ("__import__('os').system('id')=0", "equation_0:lhs:bad_character"),
        ("9**9**9**9=1", "equation_0:lhs:exponent_too_large"),
        ("1/0=1", "equation_0:lhs:division_by_zero"),
        ("(2+3=5", "equation_0:lhs:unbalanced"),
        ("2^3=8", "equation_0:lhs:bad_character"),
        ("7%4=3", "equation_0:lhs:bad_character"),
        ("9" * 15_000 + "=1", "equation_0:lhs:too_long"),
        ("(" * 15_000 + "=1", "equation_0:lhs:too_long"),
        ("(" * 50 + "1" + ")" * 50 + "=1", "equation_0:lhs:too_deep"),
    ],
)
def test_hostile_annotations_are_rejected_not_run(annotation, reason):
    verdict = verify_path(_path(annotation), "0")
    assert not verdict.is_correct
    assert verdict.reject_reason == reason


def test_a_correct_path_is_kept_with_its_equation_list():
    assert verify_path(GOOD_PATH, "72") == Verdict(
        is_correct=True, answer="72", equation_list="48/2=24|48+24=72", n_equations=2,
        reject_reason=None,
    )


def test_reasons_follow_the_documented_order():
    assert verify_path("x" * (MAX_TEXT_CHARS + 1), "1").reject_reason == "text_too_long"
    assert verify_path("She has <<2+2=5>>5 apples.", "5").reject_reason == "no_answer"
    wrong = verify_path("She has <<2+2=5>>5 apples.\n#### 5", "4")
    assert (wrong.reject_reason, wrong.answer, wrong.equation_list) == ("wrong_answer", "5", "2+2=5")
    false_second = "A: <<2+2=4>>4. B: <<4*2=9>>9.\n#### 9"
    assert verify_path(false_second, "9").reject_reason == "equation_1:false_equation"
    many = "<<1=1>>" * (MAX_EQUATIONS + 1) + "\n#### 1"
    assert verify_path(many, "1").reject_reason == "too_many_equations"


def test_a_path_without_annotations_passes_on_its_answer():
    assert verify_path("Five apples.\n#### 5", "5").is_correct


def test_none_text_is_an_empty_path():
    assert verify_path(None, "5") == Verdict(False, None, "", 0, "no_answer")
    assert FILTER_VERSION == "v2"


def test_megabyte_texts_are_rejected_without_scanning(monkeypatch):
    def scan(text):
        raise AssertionError("a text over the cap was scanned")

    monkeypatch.setattr(verify, "raw_answer", scan)
    monkeypatch.setattr(verify, "find_equations", scan)
    for text in ("9" * 1_000_000, "(" * 1_000_000, "<<" * 500_000):
        assert verify_path(text, "9").reject_reason == "text_too_long"
    # The work on texts under the cap is bounded in tests/pure/test_row_bounds.py.


_fragments = st.sampled_from(["<<", ">>", "=", "####", "\n", " ", "1", "2.5", "*", "/", "**",
                              "(", ")", "-", "$", ",", "e", "x"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.lists(_fragments | st.text(max_size=3), max_size=60).map("".join))
def test_verify_path_never_raises(text):
    verdict = verify_path(text, "5")
    assert verdict.is_correct == (verdict.reject_reason is None)


def test_prompt_and_response_follow_the_paper():
    prompt = format_prompt("What is 2+3?")
    assert prompt.startswith("Below is an instruction that describes a task.")
    assert prompt.endswith("### Instruction:\nWhat is 2+3?\n\n### Response:")
    assert format_prompt("Is {x} a placeholder?").count("{x}") == 1
    assert format_response("\n2+3=<<2+3=5>>5\n#### 5  ") == " 2+3=<<2+3=5>>5\n#### 5"
