"""Properties of the filter over generated input: exact agreement with Fraction arithmetic, and no
text, however broken, makes the answer extractor, the checker or the equation-list builder raise.

The examples of each rule are in test_filter_rules.py; these tests search for counterexamples.
"""

import re
from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rft.filter.answers import answers_match, canonical_number, extract_answer, raw_answer
from rft.filter.arithmetic import REASONS, Rejected, evaluate
from rft.filter.equations import check_equation, equation_list, find_equations
from rft.filter.path_verdict import MAX_TEXT_CHARS, verify_path
from tests.pure.expression_trees import reference, spaced_trees

EQUATION_CODES = {"no_equals", "several_equals", "false_equation"} | {
    f"{side}:{reason}" for side in ("lhs", "rhs") for reason in REASONS
}
CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a model might write, and text nobody would: every Unicode character (lone surrogates too,
# as Arrow can hand them over), and the filter's own tokens in odd places.
TOKENS = ["<<", ">>", "=", "####", "#### ", "**", "(", ")", "$", ",", ".", "-", "e", "E", "\n", " ", "|",
          "\ud800", "\x00", "\u00a0", "\u0663", "\uff15", "1_000", "9" * 40, "(" * 25]
texts = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(exclude_categories=()), max_size=50),
    st.text(alphabet="0123456789.,$+-*/()=<>#eE \n", max_size=300),
    st.lists(st.sampled_from(TOKENS) | st.text(max_size=4) | st.integers().map(str), max_size=60).map("".join),
)


# -- the arithmetic checker agrees with exact rational arithmetic -----------------------------


@MANY
@given(spaced_trees)
def test_the_checker_agrees_with_fraction_arithmetic_on_every_well_formed_expression(spaced):
    text, value, broken = reference(spaced)
    try:
        result = evaluate(text)
    except Rejected as rejected:
        event(f"rejected: {rejected.reason}")
        assert broken, f"{text!r} is within every limit and worth {value}, but was rejected: {rejected}"
        assert rejected.reason in broken, f"{text!r}: {rejected.reason}, expected one of {broken}"
        return
    event("accepted")
    assert not broken, f"{text!r} breaks {broken} but was accepted as {result}"
    assert result == value


@FEWER
@given(spaced_trees)
def test_an_annotation_holds_exactly_within_one_thousandth(spaced):
    text, value, _ = reference(spaced)
    if value is None or max(abs(value.numerator), value.denominator) >= 10**30 or len(text) > 180:
        return  # the right side below must itself be a number within the limits
    exact = f"{value.numerator}/{value.denominator}"
    assert check_equation(f"{text}={exact}") is None
    assert check_equation(f"{text}={exact}+1/1000") is None  # the bound is inclusive
    assert check_equation(f"{text}={exact}-1/999") == "false_equation"


# -- no text makes anything raise ----------------------------------------------------------


@MANY
@given(texts)
def test_any_text_evaluates_or_is_rejected_with_a_documented_reason(text):
    try:
        assert isinstance(evaluate(text), Fraction)
    except Rejected as rejected:
        assert rejected.reason in REASONS
    assert check_equation(text) in EQUATION_CODES | {None}


@MANY
@given(texts)
def test_the_answer_extractor_takes_any_text(text):
    answer = extract_answer(text)
    assert answer is None or (CANONICAL.fullmatch(answer) and canonical_number(answer) == answer)
    raw = raw_answer(text)
    assert (raw is None) == ("####" not in text)
    number = canonical_number(text)
    assert number is None or (CANONICAL.fullmatch(number) and canonical_number(number) == number)
    assert answers_match(text, "72") in (True, False)


@MANY
@given(texts)
def test_the_equation_list_builder_takes_any_text(text):
    equations = find_equations(text)
    key = equation_list(text)
    assert not any(c.isspace() for c in key)
    assert len(key) <= len(text)
    assert len(equations) <= text.count("<<") and all(f"<<{e}>>" in text for e in equations)
    assert key == "|".join("".join(e.split()) for e in equations)  # `<<>><<>>` gives `|`


@MANY
@given(texts, st.one_of(texts, st.sampled_from(["72", "0", "-3.5", "1000"])))
def test_the_filter_gives_every_text_a_verdict_with_a_documented_reason(text, gold):
    verdict = verify_path(text, gold)
    assert verdict == verify_path(text, gold, memoize=False)
    assert verdict.is_correct == (verdict.reject_reason is None)
    reason = verdict.reject_reason or ""
    if reason.startswith("equation_"):
        index, code = reason.removeprefix("equation_").split(":", 1)
        assert int(index) < verdict.n_equations and code in EQUATION_CODES
    else:
        assert reason in ("", "text_too_long", "no_answer", "wrong_answer", "too_many_equations")


def test_megabyte_texts_get_a_verdict_without_being_read():
    verdict = verify_path("<<1+1=2>>" * 200_000 + "\n#### 2", "2")
    assert (verdict.reject_reason, verdict.n_equations) == ("text_too_long", 0)
    assert verify_path("x" * MAX_TEXT_CHARS + "\n#### 2", "2").reject_reason == "text_too_long"


# -- answers and equation lists, against spellings built here ---------------------------------


@st.composite
def spelled_numbers(draw):
    """(a spelling of a number, its canonical form worked out from digits here, not by the code)."""
    scale = draw(st.integers(0, 6))
    units = draw(st.integers(-(10**20), 10**20))  # the value is units / 10**scale
    whole, part = divmod(abs(units), 10**scale)
    digits = str(part).rjust(scale, "0").rstrip("0") if scale else ""
    sign = "-" if units < 0 else ""
    canonical = f"{sign}{whole}.{digits}" if digits else f"{sign if whole else ''}{whole}"
    style = draw(st.sampled_from(["plain", "commas", "zeros", "dollar", "dot", "exponent", "leading"]))
    body = f"{whole:,}" if style == "commas" else str(whole)
    fraction = str(part).rjust(scale, "0") if scale else ""
    if style == "zeros":
        fraction += "00"
    spelled = f"{body}.{fraction}" if fraction else body
    if style == "exponent":  # the same value as an integer mantissa and a negative exponent
        spelled = f"{abs(units)}e-{scale}"
    if style == "leading":
        spelled = "00" + spelled
    spelled = f"{'$' if style == 'dollar' else ''}{sign}{spelled}"
    if style == "dot":
        spelled += "."
    return spelled, canonical


@MANY
@given(spelled_numbers(), st.text(alphabet="abc <>=\n", max_size=20))
def test_the_final_answer_is_the_canonical_value_of_any_spelling(number, prose):
    spelled, canonical = number
    assert extract_answer(f"{prose}\n#### {spelled}") == canonical
    assert answers_match(spelled, canonical)


@MANY
@given(st.integers(1, 10**20), st.integers(-80, 80) | st.integers(-(10**25), 10**25), st.booleans())
def test_scientific_answers_are_their_value_within_the_caps_and_none_beyond(mantissa, exponent, negative):
    spelled = f"{'-' if negative else ''}{mantissa}e{exponent}"
    while mantissa % 10 == 0:  # worked out on digits here: 1200e-1 is 12e1
        mantissa, exponent = mantissa // 10, exponent + 1
    digits = str(mantissa)
    within = len(digits) - 1 + exponent < 30 and exponent >= -30 and len(spelled) <= 64
    if not within:
        expected = None
    elif exponent >= 0:
        expected = digits + "0" * exponent
    else:
        padded = digits.rjust(1 - exponent, "0")
        expected = f"{padded[:exponent]}.{padded[exponent:]}"
    if expected is not None and negative:
        expected = "-" + expected
    assert extract_answer(f"So the answer is\n#### {spelled}") == expected


plain = st.text(st.characters(exclude_characters="<>"), max_size=20)


@FEWER
@given(st.lists(st.tuples(plain, plain), max_size=8), plain)
def test_the_equation_list_is_the_annotations_in_order_without_whitespace(pieces, tail):
    text = "".join(f"{prose}<<{annotation}>>" for prose, annotation in pieces) + tail
    assert find_equations(text) == [annotation for _, annotation in pieces]
    assert equation_list(text) == "|".join("".join(annotation.split()) for _, annotation in pieces)
