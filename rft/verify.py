"""The rejection filter: whether one sampled reasoning path is kept. THE definition of filter v1.

A path (the model's response text) is correct for a question with canonical gold answer `g`
when, checked in this order, the first failing rule giving its reason code:

1. Length: at most MAX_TEXT_CHARS characters, else 'text_too_long' (nothing else is scanned).
2. Answer: `rft.answers.extract_answer` finds a number after the last `####`, else 'no_answer'.
   Commas, a leading `$` and a trailing `.` are dropped; `3.50` == `3.5`, `1e3` == `1000`.
3. Answer equals `g` as canonical numbers (exact, no tolerance), else 'wrong_answer'.
4. At most MAX_EQUATIONS calculator annotations `<<...>>`, else 'too_many_equations'.
5. Every annotation, in order, holds: exactly one `=`, both sides parse with the safe evaluator
   `rft.arithmetic` (exact Fractions; no eval), and |lhs - rhs| <= 1/1000 (the paper's 1e-3).
   The first one that fails gives 'equation_<i>:<code>', i counting from 0, e.g.
   'equation_1:false_equation', 'equation_0:lhs:bad_character', 'equation_2:rhs:syntax'.
   Annotations are checked as written (ASCII whitespace between tokens is ignored), not in
   their normalised form, so `<<2 3=23>>` fails even though its normalised form reads `23=23`.
A path with no annotations at all passes rule 5.

Equation codes: 'no_equals', 'several_equals', 'false_equation', and after 'lhs:' or 'rhs:'
one of `rft.arithmetic.REASONS`: empty, too_long (side over 200 characters), bad_character
(letters, `^`, `%`, `_`, quotes...), bad_number, number_too_long (over 30 digits), unbalanced,
syntax, too_deep (nesting over 20), division_by_zero, non_integer_exponent, exponent_too_large
(|y| > 64 in x**y), too_large (any intermediate over 1e30), too_precise (denominator over 1e60).

Alongside the verdict, every path gets its equation list (normalised annotations joined by
`|`, the deduplication key) and its extracted answer, also when rejected (except for
'text_too_long'), for analytics. `verify_path` never raises on a str, and treats None as ''.
"""

from dataclasses import dataclass

from rft.answers import answers_match, extract_answer
from rft.equations import MAX_EQUATIONS, check_equation, find_equations, join_equations

FILTER_VERSION = "v1"
MAX_TEXT_CHARS = 20_000  # ~40x a GSM8K solution; bounds the work spent on one runaway sample


@dataclass(frozen=True)
class Verdict:
    """The filter's judgement of one reasoning path."""

    is_correct: bool
    answer: str | None  # canonical extracted answer, None when there is none
    equation_list: str  # normalised annotations joined by `|`, '' when none
    n_equations: int
    reject_reason: str | None  # None exactly when is_correct


def verify_path(text: str | None, gold_answer: str) -> Verdict:
    """The verdict of filter v1 on one path `text` against its canonical gold answer."""
    text = text or ""
    if len(text) > MAX_TEXT_CHARS:
        return Verdict(False, None, "", 0, "text_too_long")
    answer = extract_answer(text)
    equations = find_equations(text)
    key = join_equations(equations)

    def rejected(reason: str) -> Verdict:
        return Verdict(False, answer, key, len(equations), reason)

    if answer is None:
        return rejected("no_answer")
    if not answers_match(answer, gold_answer):
        return rejected("wrong_answer")
    if len(equations) > MAX_EQUATIONS:
        return rejected("too_many_equations")
    for i, equation in enumerate(equations):
        problem = check_equation(equation)
        if problem is not None:
            return rejected(f"equation_{i}:{problem}")
    return Verdict(True, answer, key, len(equations), None)
