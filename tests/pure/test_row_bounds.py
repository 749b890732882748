"""The work and memory the filter spends on one row are bounded, whatever the text.

docs/verification.md (section 9) derives the bounds from the limits; these tests
measure them on adversarial rows with deterministic counters, never with a clock:
- memory: tracemalloc's peak during one `verify_path` call;
- work: the exact values computed (every literal and every intermediate result passes through
  `rft.filter.arithmetic._bounded` once) and the size of the largest integer among them.
"""

import tracemalloc
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from rft.filter import arithmetic
from rft.filter.answers import extract_answer
from rft.filter.equations import MAX_EQUATIONS, equation_list
from rft.filter.path_verdict import MAX_TEXT_CHARS, verify_path
from tests.pure.expression_trees import reference, spaced_trees

# The bounds as docs/verification.md states them.
MAX_ROW_BYTES = 1 << 20  # peak memory of one verify_path call, above its input
MAX_VALUES = MAX_TEXT_CHARS  # literals and results of operations: each needs a character of its own
MAX_INTEGER_BITS = 19_136  # |value| <= 10**30, denominator <= 10**60, |exponent| <= 64: (10**90)**64 < 2**19_136


@dataclass
class Work:
    values: int = 0
    largest_bits: int = 0
    peak_bytes: int = 0


@pytest.fixture
def measure(monkeypatch):
    """Runs verify_path on a row and returns its Work; the spy passes every value on unchanged."""
    work = Work()
    bounded = arithmetic._bounded

    def counting(value):
        work.values += 1
        work.largest_bits = max(work.largest_bits, value.numerator.bit_length(), value.denominator.bit_length())
        return bounded(value)

    monkeypatch.setattr(arithmetic, "_bounded", counting)

    def run(text: str) -> Work:
        work.values = work.largest_bits = 0
        gold = extract_answer(text) or "1"  # the right answer, so that every annotation is checked
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            verify_path(text, gold, memoize=False)
            work.peak_bytes = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        return Work(work.values, work.largest_bits, work.peak_bytes)

    return run


def filled(annotation: str, prose: str = "") -> str:
    """As many copies of `<<annotation>>` as the length cap and MAX_EQUATIONS allow, then `#### 1`."""
    n = min(MAX_EQUATIONS, (MAX_TEXT_CHARS - 10) // (len(annotation) + 4 + len(prose)))
    return f"{prose}<<{annotation}>>" * n + "\n#### 1"


SIDE_OF_OPERATIONS = "1" + "*1" * 99  # 199 characters, 99 multiplications
ADVERSARIAL = {
    "most values": filled(f"{SIDE_OF_OPERATIONS}={SIDE_OF_OPERATIONS}"),
    "largest powers": filled("(999999999999999.999999999999999/1000000000000000)**64*0=0"),
    "precise powers": filled("(2/3)**64*(3/2)**64+(7/9)**60*(9/7)**60=2"),
    "deepest nesting": filled("(" * 19 + "1" + ")" * 19 + "=" + "-" * 18 + "1"),
    "widest numbers": filled("999,999,999,999,999,999,999,999,999,999*1/3=" + "3" * 29),
    "most annotations, 4-byte characters": "<<\U0001F600>>" * 3998 + "\n#### 1",
    "one huge annotation": "<<" + "\U0001F600" * 19_980 + "=1>>\n#### 1",
    "a huge answer": "#### " + "9" * 19_990,
    "just under the cap, 4-byte characters": "\U0001F600" * (MAX_TEXT_CHARS - 8) + "\n#### 1",
    "a megabyte": "<<1*1=1>>" * 120_000 + "\n#### 1",
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_rows_stay_within_the_bounds(measure, name):
    work = measure(ADVERSARIAL[name])
    assert work.peak_bytes <= MAX_ROW_BYTES
    assert work.values <= MAX_VALUES
    assert work.largest_bits <= MAX_INTEGER_BITS


def test_the_adversarial_rows_do_reach_the_limits(measure):
    """The bounds above are tight enough to mean something: these rows get close to them."""
    assert measure(ADVERSARIAL["most values"]).values > MAX_VALUES * 0.9
    assert measure(ADVERSARIAL["largest powers"]).largest_bits > 6_000
    assert measure(ADVERSARIAL["most annotations, 4-byte characters"]).peak_bytes > MAX_ROW_BYTES / 4
    assert measure(ADVERSARIAL["a megabyte"]).values == 0  # refused by its length alone


def _holds(reference_of_tree) -> bool:
    _, value, _ = reference_of_tree
    return value is not None and max(abs(value.numerator), value.denominator) < 10**29


# Annotations that hold (so the filter checks every one of them), and junk.
true_annotations = spaced_trees.map(reference).filter(_holds).map(
    lambda r: f"{r[0]}={r[1].numerator}/{r[1].denominator}")
annotations = st.lists(true_annotations | st.text(max_size=30), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                   HealthCheck.function_scoped_fixture])
@given(annotations)
def test_searched_rows_stay_within_the_bounds(measure, found):
    """Hypothesis steers towards the most work and memory it can find (`target`)."""
    copies = max(1, MAX_EQUATIONS // len(found))
    text = "".join(f"<<{annotation}>>" for annotation in found) * copies
    work = measure(text[: MAX_TEXT_CHARS - 10] + "\n#### 1")
    target(work.values, label="values")
    target(work.peak_bytes, label="peak bytes")
    assert work.peak_bytes <= MAX_ROW_BYTES
    assert work.values <= MAX_VALUES
    assert work.largest_bits <= MAX_INTEGER_BITS


def test_outside_the_filter_the_helpers_are_linear_in_the_text():
    """Evaluation reads answers of untrimmed texts: twice the text, at most about twice the memory."""
    def peak(fn, text):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            fn(text)
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()

    for fn, unit in ((extract_answer, "#### " + "9" * 99_995), (equation_list, "<<ab>>" * 16_666)):
        small, large = peak(fn, unit), peak(fn, unit * 2)
        assert large <= 2.2 * small + 4096, fn.__name__
