"""One example per rule of docs/verification.md that the other test files do not already show."""

import pytest

from rft.filter.answers import answers_match, canonical_number, extract_answer
from rft.filter.arithmetic import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_EXPRESSION_CHARS,
    MAX_NUMBER_DIGITS,
    Rejected,
    evaluate,
)
from rft.filter.equations import MAX_EQUATIONS, check_equation, equation_list
from rft.filter.path_verdict import MAX_TEXT_CHARS, Verdict, verify_path


def reason(expr: str) -> str:
    with pytest.raises(Rejected) as rejected:
        evaluate(expr)
    return rejected.value.reason


# Final answers


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("#### 1,234,567", "1234567"),  # commas dropped
        ("#### 1,00", "100"),  # wherever they sit between digits, as the reference scripts' replace(',', '')
        ("#### $-5", "-5"),  # `$` before or after the sign
        ("#### $18.", "18"),  # `$` and a full stop together
        ("#### 3.50.", "3.5"),
        ("#### 72.\n", "72"),
        ("####-5", "-5"),  # no space after the marker, negative
        ("#### 5 #### 6", "6"),  # two markers on one line: the text after the last one
        ("#### 3.50\nOops.\n#### 3.5", "3.5"),  # several marker lines: the last one
        ("#### 1E3", "1000"),
        ("#### 1e29", "100000000000000000000000000000"),
        ("#### 1e-30", "0.000000000000000000000000000001"),
        ("#### 0e" + "9" * 60, "0"),  # zero stays zero, whatever the exponent
    ],
)
def test_answer_edge_cases(text, answer):
    assert extract_answer(text) == answer


@pytest.mark.parametrize(
    "text",
    [
        "#### 18$",  # `$` only in front
        "#### ,100",
        "#### 1e30",  # |value| must stay below 10**30
        "#### 1e-31",  # no digit below 10**-30
        "#### 1e" + "9" * 60,  # Decimal itself refuses exponents this long: None, not a crash
        "#### 1e-" + "9" * 59,
        "#### 1_000",
        "#### ５",  # a full-width digit
    ],
)
def test_answers_that_are_not_one_plain_number(text):
    assert extract_answer(text) is None


def test_answers_are_compared_as_exact_canonical_numbers():
    assert canonical_number("3.50") == canonical_number("3.5") == "3.5"
    assert answers_match("1e3", "1,000")
    assert not answers_match("3.5001", "3.5")  # no tolerance on the final answer


def test_an_answer_with_a_huge_exponent_is_rejected_not_raised():
    verdict = verify_path("#### 1e" + "9" * 60, "1")
    assert (verdict.is_correct, verdict.answer, verdict.reject_reason) == (False, None, "no_answer")


# Equations: tolerance, operators and limits


@pytest.mark.parametrize(
    ("equation", "problem"),
    [
        ("1=1.001", None),  # exactly 1/1000 apart: holds
        ("1.001=1", None),
        ("1=1.0011", "false_equation"),
        ("2/3=0.666", None),
        ("2/3=0.67", "false_equation"),
        ("-3+5=2", None),  # unary minus
        ("2*-3=-6", None),
        ("(-2)**2=4", None),
        ("-2**2=-4", None),  # the power binds tighter than the sign, as in Python
        ("2 3=23", "lhs:syntax"),  # checked as written, not in its normalised form `23=23`
        ("560//10=56", None),  # floor division, as in two GSM8K gold solutions
        ("7//2=3.5", "false_equation"),
        ("7//0=1", "lhs:division_by_zero"),
        ("2^3=8", "lhs:bad_character"),
        ("25%*4=1", "lhs:bad_character"),
        ("x*2=4", "lhs:bad_character"),
        ("abs(-3)=3", "lhs:bad_character"),
        ("(1).__class__=1", "lhs:bad_number"),  # `.` after `)` starts a number with no digits
        ("__import__('os')=0", "lhs:bad_character"),
        ("(lambda: 1)()=1", "lhs:bad_character"),
        ("1e3=1000", "lhs:bad_character"),  # no scientific notation inside annotations
        ("5=5=5", "several_equals"),
    ],
)
def test_equation_rules(equation, problem):
    assert check_equation(equation) == problem


def test_exponent_limit():
    assert evaluate(f"2**{MAX_EXPONENT}") == 2**64
    assert evaluate(f"2**-{MAX_EXPONENT}") * 2**64 == 1
    assert reason(f"2**{MAX_EXPONENT + 1}") == "exponent_too_large"
    assert reason(f"2**-{MAX_EXPONENT + 1}") == "exponent_too_large"
    assert reason("4**0.5") == "non_integer_exponent"


def test_operand_size_limits():
    assert evaluate("9" * MAX_NUMBER_DIGITS) == 10**30 - 1
    assert evaluate("1,000,000.5") == 1000000.5  # commas do not count as digits
    assert reason("1" + "0" * MAX_NUMBER_DIGITS) == "number_too_long"
    assert evaluate("10**30") == 10**30  # the magnitude cap itself is allowed
    assert reason("10**30+1") == "too_large"


def test_expression_length_limit_applies_to_each_side():
    side = "1+" * 99 + "1"  # 199 characters, value 100
    assert len(side) + 1 == MAX_EXPRESSION_CHARS
    assert evaluate(side + " ") == 100
    assert reason(side + "+1") == "too_long"
    assert check_equation(f"{side}={side}") is None  # 399 characters in all


def test_nesting_limit():
    assert evaluate("(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)) == 1
    assert reason("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == "too_deep"
    assert evaluate("-" * (MAX_DEPTH - 1) + "1") == -1
    assert reason("-" * MAX_DEPTH + "1") == "too_deep"


# Whole paths


def test_equation_list_removes_all_whitespace_and_keeps_the_order():
    text = "<< 3 * 4 = 12 >> then <<12\t+\n1=13>>\n#### 13"
    assert equation_list(text) == "3*4=12|12+1=13"
    assert equation_list("<<12+1=13>> then <<3*4=12>>") == "12+1=13|3*4=12"  # another list


def test_paths_with_the_same_list_are_the_same_reasoning():
    one = verify_path("Three bags of 4: <<3*4=12>>12.\n#### 12", "12")
    other = verify_path("He buys 3 * 4 = << 3 * 4 = 12 >> 12 apples.\n#### 12", "12")
    assert one.is_correct and other.is_correct
    assert one.equation_list == other.equation_list == "3*4=12"


def test_a_path_without_annotations_has_an_empty_list():
    assert verify_path("She has five apples.\n#### 5", "5") == Verdict(True, "5", "", 0, None)


def test_rejected_paths_keep_their_answer_and_list():
    verdict = verify_path("<<2+2=4>>4, then <<4*2=9>>9.\n#### 9", "9")
    assert verdict == Verdict(False, "9", "2+2=4|4*2=9", 2, "equation_1:false_equation")


def test_text_and_equation_count_limits():
    long_text = "#### 5".rjust(MAX_TEXT_CHARS)
    assert verify_path(long_text, "5").is_correct
    assert verify_path(" " + long_text, "5").reject_reason == "text_too_long"
    assert verify_path("<<1=1>>" * MAX_EQUATIONS + "\n#### 1", "1").is_correct
    too_many = "<<1=1>>" * (MAX_EQUATIONS + 1) + "\n#### 1"
    assert verify_path(too_many, "1").reject_reason == "too_many_equations"

