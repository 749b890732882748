"""Final answers of reasoning paths: the number after `####`, in one canonical spelling.

Extraction (`extract_answer`), as in the paper with the edge cases pinned down:
- Only the LAST line that contains `####` counts; a path that ends with `#### 72` after an
  earlier `#### 70` answers 72. On that line the text after its last `####` is the answer,
  so `####5` (no space) is accepted too.
- That text, stripped of whitespace, must be exactly one number: `#### 72 apples`,
  `#### x = 7`, `#### 3/4` and an empty answer all give None.

Canonical numbers (`canonical_number`):
- Accepted: an optional sign, an optional `$` (before or after the sign: `-$5`, `$-5`), ASCII
  digits with optional commas between them, an optional decimal part with at least one digit
  (`.5` is fine), an optional exponent (`1e3`, `2.5E-1`), and one trailing `.` (end of sentence).
- Commas are dropped wherever they sit between digits (the paper's `replace(',', '')`), so
  `1,000` and even `1,00` read as 1000 and 100. A leading or trailing comma is rejected.
- Value is read with `decimal.Decimal`, exactly, and written in plain positional notation
  without trailing zeros: `3.50` -> `3.5`, `5.0` -> `5`, `007` -> `7`, `1e3` -> `1000`,
  `+5` -> `5`, `-0` and `0.00` -> `0`.
- Size caps keep hostile answers cheap: at most MAX_ANSWER_CHARS characters (after stripping
  whitespace), |value| < 10**MAX_ANSWER_EXPONENT and no nonzero digit below
  10**-MAX_ANSWER_EXPONENT (`1e999999` -> None, `1e-999999` -> None, `0e999999` -> `0`).

Matching (`answers_match`): exact equality of canonical forms; None never matches, so a path
without an answer is never correct. `3.5` and `7/2` do not match: fractions are not numbers here.
"""

import re
from decimal import Decimal

ANSWER_MARKER = "####"
MAX_ANSWER_CHARS = 64  # longer "numbers" are not answers to grade-school problems
MAX_ANSWER_EXPONENT = 30  # |value| < 10**30 and no digits below 10**-30

_NUMBER = re.compile(
    r"""
    (?P<sign>\$[+-]|[+-]?\$?)                      # -5, $5, -$5, $-5
    (?P<mantissa>[0-9]+(?:,[0-9]+)*(?:\.[0-9]+)?|\.[0-9]+)
    (?P<exponent>[eE][+-]?[0-9]+)?
    """,
    re.VERBOSE,
)


def canonical_number(s: str) -> str | None:
    """The canonical spelling of the number `s`, or None when `s` is not one number."""
    s = s.strip()
    if len(s) > MAX_ANSWER_CHARS:
        return None
    s = s.removesuffix(".")  # "#### 72." ends a sentence
    match = _NUMBER.fullmatch(s)
    if match is None:
        return None
    sign = match["sign"].replace("$", "")
    value = Decimal(sign + match["mantissa"].replace(",", "") + (match["exponent"] or ""))
    if value == 0:
        return "0"  # also -0, 0.00 and 0e5
    if not _within_caps(value):
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _within_caps(value: Decimal) -> bool:
    """Whether a nonzero `value` has no digit at or above 10**30 and none below 10**-30."""
    _, digits, exponent = value.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    lowest_digit = exponent + trailing_zeros
    highest_digit = exponent + len(digits) - 1
    return highest_digit < MAX_ANSWER_EXPONENT and lowest_digit >= -MAX_ANSWER_EXPONENT


def extract_answer(text: str) -> str | None:
    """The canonical final answer of a reasoning path, or None when it has none."""
    marker_at = text.rfind(ANSWER_MARKER)
    if marker_at < 0:
        return None
    # The last line containing the marker is the line of its last occurrence, and the answer
    # is what follows that occurrence up to the end of the line.
    line_end = text.find("\n", marker_at)
    rest = text[marker_at + len(ANSWER_MARKER) : line_end if line_end >= 0 else len(text)]
    return canonical_number(rest)


def answers_match(predicted: str | None, gold: str) -> bool:
    """Whether a predicted answer equals the gold answer (both read as canonical numbers)."""
    if predicted is None or gold is None:
        return False
    predicted_canonical = canonical_number(predicted)
    return predicted_canonical is not None and predicted_canonical == canonical_number(gold)
