"""Calculator annotations `<<lhs=rhs>>` in reasoning paths: finding, normalising, checking.

`find_equations` gives the annotations in order, without nesting. `equation_list` removes
their whitespace and joins them with `|`, which makes the deduplication key. `check_equation`
says whether one annotation holds: exactly one `=`, both sides accepted by `rft.filter.arithmetic`,
and |lhs - rhs| <= 1/1000 exactly. docs/verification.md, sections 3 and 4, has the rules,
reason codes and examples.
"""

from fractions import Fraction

from rft.filter.arithmetic import Rejected, evaluate

OPEN, CLOSE = "<<", ">>"
EQUATION_SEPARATOR = "|"
MAX_EQUATIONS = 64  # a path with more annotations is rejected as 'too_many_equations'
TOLERANCE = Fraction(1, 1000)


def find_equations(text: str) -> list[str]:
    """The contents of every `<<...>>` in `text`, in order."""
    equations = []
    start = text.find(OPEN)
    while start >= 0:
        end = text.find(CLOSE, start + len(OPEN))
        if end < 0:
            break  # no later `<<` can be closed either
        equations.append(text[start + len(OPEN) : end])
        start = text.find(OPEN, end + len(CLOSE))
    return equations


def normalise_equation(equation: str) -> str:
    """`equation` with all whitespace removed, the form compared across paths."""
    return "".join(equation.split())


def equation_list(text: str) -> str:
    """The normalised annotations of `text` joined by `|`; empty when it has none."""
    return join_equations(find_equations(text))


def join_equations(equations: list[str]) -> str:
    """The equation list of already-found annotations."""
    return EQUATION_SEPARATOR.join(normalise_equation(eq) for eq in equations)


def check_equation(equation: str) -> str | None:
    """None when `lhs=rhs` holds within the tolerance, else a reason code.

    Codes: 'no_equals', 'several_equals', 'false_equation', and 'lhs:<code>' or 'rhs:<code>'
    with a code from `rft.filter.arithmetic.REASONS` (the left side is evaluated first).
    """
    n_equals = equation.count("=")
    if n_equals == 0:
        return "no_equals"
    if n_equals > 1:
        return "several_equals"
    lhs_text, rhs_text = equation.split("=")
    try:
        lhs = evaluate(lhs_text)
    except Rejected as rejected:
        return f"lhs:{rejected.reason}"
    try:
        rhs = evaluate(rhs_text)
    except Rejected as rejected:
        return f"rhs:{rejected.reason}"
    return None if abs(lhs - rhs) <= TOLERANCE else "false_equation"
