"""Final answers of reasoning paths: the number after the last `####`, in one canonical spelling.

`extract_answer` reads the text after the last `####` of a path. `canonical_number` writes it
in one exact spelling: commas, `$` and a trailing `.` are dropped, trailing zeros go, and `1e3`
becomes `1000`. It gives None when the text is not one plain number within the size caps.
`answers_match` compares canonical spellings exactly. Every edge case, with examples, is in
docs/verification.md, section 2.
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
    mantissa = match["mantissa"].replace(",", "")
    exponent = match["exponent"] or ""
    if Decimal(mantissa) == 0:
        return "0"  # also -0, 0.00 and 0e999999
    if exponent and abs(int(exponent[1:])) > MAX_ANSWER_CHARS + MAX_ANSWER_EXPONENT:
        # A mantissa this short cannot bring such an exponent back within the caps, and
        # Decimal raises InvalidOperation on exponents of 19 digits or more: stop here.
        return None
    value = Decimal(sign + mantissa + exponent)
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
    raw = raw_answer(text)
    return None if raw is None else canonical_number(raw)


def raw_answer(text: str) -> str | None:
    """The text after the last `####`, up to the end of its line; None without a `####`."""
    marker_at = text.rfind(ANSWER_MARKER)
    if marker_at < 0:
        return None
    # The last line containing the marker is the line of its last occurrence, and the answer
    # is what follows that occurrence up to the end of the line.
    line_end = text.find("\n", marker_at)
    return text[marker_at + len(ANSWER_MARKER) : line_end if line_end >= 0 else len(text)]


def answers_match(predicted: str | None, gold: str) -> bool:
    """Whether a predicted answer equals the gold answer (both read as canonical numbers)."""
    if predicted is None or gold is None:
        return False
    predicted_canonical = canonical_number(predicted)
    return predicted_canonical is not None and predicted_canonical == canonical_number(gold)
