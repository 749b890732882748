"""The published RFT scripts' answer rule, reproduced so test accuracy can be compared with theirs.

    reference_answer("So 72 apples.\\n#### 72 apples")   # "72"   (the leading number counts)
    reference_answer("#### 3/4")                          # "3"
    reference_answer("####72")                            # None   (a space must follow ####)
    reference_correct("72", "72.00001")                   # True   (within 1e-4)
    reference_majority(["8", None, "9", "9", "8"])        # ("8", 2): ties go to the first counted

The project's own rule (`strict`, rft/filter/answers.py) reads the whole line after the *last*
`####` and refuses anything that is not one number; this one reads the leading digits after
the *first* `#### `. docs/verification.md, section 10, lists both side by side. Answers stay
strings until compared, and only `float()` ever reads them.
"""

import re
from collections import Counter

SCORING_MODES = ("strict", "reference")
# The graded rows' column holding each mode's verdict (rft/evaluation/scoring.py writes both).
CORRECT_COLUMNS = {"strict": "is_correct", "reference": "is_correct_reference"}
ANSWER_COLUMNS = {"strict": "answer", "reference": "answer_reference"}

_ANSWER = re.compile(r"#### (-?[0-9.,]+)")
TEST_TOLERANCE = 1e-4  # strictly below, as the reference's test-time comparison


def correct_column(scoring: str) -> str:
    """The column of graded rows that holds the verdict of `scoring` ('strict' or 'reference')."""
    if scoring not in CORRECT_COLUMNS:
        raise ValueError(f"unknown scoring mode {scoring!r}; expected one of {', '.join(SCORING_MODES)}")
    return CORRECT_COLUMNS[scoring]


def reference_answer(text: str | None) -> str | None:
    """The answer string the reference reads from `text`, commas removed; None when invalid.

    The text is cut at its first NUL, then the first `#### ` followed by digits, dots, commas
    and an optional leading minus gives the answer; what follows it (units, `/4`) is ignored.
    A string `float()` cannot read (`1.2.3`, `-`, `.`) is invalid.
    """
    if not text:
        return None
    match = _ANSWER.search(text.split("\0", 1)[0])
    if match is None:
        return None
    answer = match.group(1).strip().replace(",", "")
    try:
        float(answer)
    except ValueError:
        return None
    return answer


def reference_correct(answer: str | None, gold: str | None) -> bool:
    """Whether a reference answer is within 1e-4 of the gold answer (both read by `float`)."""
    if answer is None or gold is None:
        return False
    try:
        return abs(float(answer) - float(gold)) < TEST_TOLERANCE
    except ValueError:  # a gold answer float() cannot read matches nothing
        return False


def reference_majority(answers: list[str | None]) -> tuple[str | None, int]:
    """(most common valid answer string, its count); ties go to the first counted; (None, 0) if none.

    Votes are answer strings, not values, so "72" and "72.0" are two different answers.
    """
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None, 0
    answer = max(counts, key=counts.__getitem__)  # max keeps the first of equal keys; Counter keeps insertion order
    return answer, counts[answer]
