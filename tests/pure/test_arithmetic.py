"""The safe evaluator: what it computes, and what it refuses."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rft.filter import arithmetic
from rft.filter.arithmetic import MAX_EXPRESSION_CHARS, REASONS, Rejected, evaluate


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("48/2", 24),
        ("1+2*3", 7),
        ("(1+2)*3", 9),
        ("0.1+0.2", Fraction(3, 10)),  # exact, unlike floats
        ("12/60", Fraction(1, 5)),
        ("-2**2", -4),  # as in Python: the power binds tighter than the sign
        ("2**-1", Fraction(1, 2)),
        ("2**3**2", 512),  # right-associative
        ("--3", 3),
        ("1,000*2", 2000),  # thousands separator
        ("$5*2", 10),  # a dollar sign before a number is ignored
        (" 3 * 4 ", 12),
        (".5+5.", Fraction(11, 2)),
        ("560//10", 56),  # floor division, as Python reads it
        ("7//2", 3),
        ("-7//2", -4),  # the floor, not truncation towards zero
        ("7//-2", -4),
        ("7.5//2", 3),  # Python: 3.0
        ("-7.5//2", -4),
        ("1/3//1", 0),
        ("7//2*2", 6),  # same precedence as * and /, left to right
        ("2**3//3", 2),
    ],
)
def test_evaluates_arithmetic_exactly(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("__import__('os').system('id')", "bad_character"),
        ("abs(-3)", "bad_character"),
        ("2^3", "bad_character"),
        ("5%2", "bad_character"),
        ("1e3", "bad_character"),
        ("[1]", "bad_character"),
        ("1,00", "bad_number"),  # ambiguous: 100 or 1.00?
        ("$", "bad_number"),
        ("1" * 31, "number_too_long"),
        ("(2+3", "unbalanced"),
        ("2+3)", "unbalanced"),
        (")(", "unbalanced"),
        ("2+", "syntax"),
        ("2 3", "syntax"),
        ("()", "syntax"),
        ("2**", "syntax"),
        ("7///2", "syntax"),
        ("7//0", "division_by_zero"),
        ("7//(0.5-0.5)", "division_by_zero"),
        ("(" * 30 + "1" + ")" * 30, "too_deep"),
        ("1/0", "division_by_zero"),
        ("1/(2-2)", "division_by_zero"),
        ("0**-1", "division_by_zero"),
        ("4**0.5", "non_integer_exponent"),
        ("9**9**9**9", "exponent_too_large"),
        ("2**65", "exponent_too_large"),
        ("10**31", "too_large"),
        ("999999999999999*999999999999999999", "too_large"),
        ("(0.5**64)**64", "too_precise"),
    ],
)
def test_rejects_with_a_reason(expr, reason):
    with pytest.raises(Rejected) as rejected:
        evaluate(expr)
    assert rejected.value.reason == reason
    assert reason in REASONS


@pytest.mark.parametrize("line", ["9" * 1_000_000, "(" * 1_000_000, "1+" * 500_000 + "1"])
def test_megabyte_lines_are_refused_by_length_before_being_read(line, monkeypatch):
    def tokenize(expr):
        raise AssertionError("the tokenizer read a line over the length cap")

    monkeypatch.setattr(arithmetic, "tokenize", tokenize)
    with pytest.raises(Rejected) as rejected:
        evaluate(line)
    assert rejected.value.reason == "too_long"


def test_huge_powers_within_the_length_cap_are_refused_by_size():
    """Each power is checked as soon as it is computed; tests/pure/test_row_bounds.py bounds the work."""
    nasty = "(" + "((9**64)**64)**64" + ")"
    power_chain = "*".join(["99**64/7**64"] * 10)[:MAX_EXPRESSION_CHARS]
    for expr in (nasty, power_chain):
        with pytest.raises(Rejected) as rejected:
            evaluate(expr)
        assert rejected.value.reason == "too_large"


def _combine(children):
    """Well-formed `(text, value)` pairs built from smaller ones; value None means x/0."""
    pair = st.tuples(children, children)

    def join(op, left, right):
        (lt, lv), (rt, rv) = left, right
        text = f"({lt}){op}({rt})"
        if lv is None or rv is None or (op in ("/", "//") and rv == 0):
            return text, None
        if op == "//":
            return text, Fraction(lv // rv)
        return text, {"+": lv + rv, "-": lv - rv, "*": lv * rv}[op] if op != "/" else lv / rv

    return st.one_of(
        *(pair.map(lambda lr, op=op: join(op, *lr)) for op in ("+", "-", "*", "/", "//")),
        children.map(lambda c: (f"-({c[0]})", None if c[1] is None else -c[1])),
    )


_leaves = st.one_of(
    st.integers(0, 999).map(lambda n: (str(n), Fraction(n))),
    st.integers(0, 999).map(lambda n: (f"{n / 100:.2f}", Fraction(n, 100))),
    st.tuples(st.integers(0, 9), st.integers(0, 3)).map(
        lambda p: (f"{p[0]}**{p[1]}", Fraction(p[0]) ** p[1])
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=6))
def test_agrees_with_fraction_arithmetic(pair):
    text, value = pair
    if value is None:
        with pytest.raises(Rejected) as rejected:
            evaluate(text)
        assert rejected.value.reason == "division_by_zero"
    else:
        assert evaluate(text) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,$+-*/() x^", max_size=60) | st.text(max_size=30))
def test_any_text_either_evaluates_or_is_rejected(text):
    try:
        assert isinstance(evaluate(text), Fraction)
    except Rejected as rejected:
        assert rejected.reason in REASONS
