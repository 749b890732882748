"""Safe, exact evaluation of one side of a calculator annotation such as `48/2` or `(3+4)*2`.

Expressions come from language-model samples, so they are hostile input: nothing here uses
`eval`, `exec`, `compile` or `ast`. A hand-written tokenizer and recursive-descent parser
evaluate with `fractions.Fraction`, so `0.1+0.2` is exactly `3/10`.

Accepted language (ASCII whitespace between tokens is ignored):
    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/' | '//') unary)*
    unary  := ('+' | '-') unary | power
    power  := atom ('**' unary)?          # right-associative; binds tighter than a sign on its left
    atom   := number | '(' expr ')'
    number := ['$'] (digits [',' ddd]* ['.' [digits]]  |  '.' digits)     # 5, 1,000.5, 5., .5

So, as in Python, `-2**2` is -4, `2**-1` is 1/2 and `2**3**2` is 512, and `//` is the floor of
the exact quotient: `7.5//2` is 3, `-7//2` is -4 (GSM8K's own gold solutions write `560//10`).
A `$` directly before a
number is ignored (`$5*2` is 10). A comma inside a number is a thousands separator and must be
followed by exactly three digits (`1,000` is 1000; `1,5` is rejected as ambiguous).

Everything else is rejected with `Rejected(reason)`: letters and names (so no calls or
attributes), `^`, `%`, brackets other than parentheses, scientific notation. Limits below
bound the work per call: the length cap bounds the tokens, and the magnitude and precision caps
bound the size of every intermediate Fraction, so one call is linear in the capped length.
docs/verification.md, section 3, lists the reason codes and limits with examples.
"""

from fractions import Fraction

MAX_EXPRESSION_CHARS = 200  # longer annotations are never legitimate arithmetic steps
MAX_NUMBER_DIGITS = 30  # digits in one literal, commas not counted
MAX_DEPTH = 20  # nesting of parentheses, signs and exponents together
MAX_EXPONENT = 64  # |y| in x ** y
MAX_MAGNITUDE = Fraction(10) ** 30  # |value| of the literal and of every intermediate result
MAX_DENOMINATOR = 10**60  # denominator of every intermediate result (reason 'too_precise')

REASONS = (
    "empty",  # nothing but whitespace
    "too_long",  # more than MAX_EXPRESSION_CHARS characters
    "bad_character",  # a character outside digits, . , $ + - * / ( ) and whitespace
    "bad_number",  # a malformed literal such as `1,00`, `$` not before a number, or a lone `.`
    "number_too_long",  # a literal with more than MAX_NUMBER_DIGITS digits
    "unbalanced",  # parentheses that do not pair up
    "syntax",  # tokens in an order the grammar does not allow, e.g. `2+`, `3 4`, `()`
    "too_deep",  # nesting beyond MAX_DEPTH
    "division_by_zero",  # x / 0, x // 0, or 0 ** negative
    "non_integer_exponent",  # x ** 0.5: the result would not be exact
    "exponent_too_large",  # |y| > MAX_EXPONENT in x ** y
    "too_large",  # a literal or intermediate beyond MAX_MAGNITUDE
    "too_precise",  # an intermediate whose denominator exceeds MAX_DENOMINATOR
)

_DIGITS = frozenset("0123456789")  # str.isdigit() would also admit '²' and other scripts
_OPERATORS = frozenset("+-*/()")
_SPACES = frozenset(" \t\n\r\f\v")  # ASCII whitespace only


class Rejected(ValueError):
    """An expression the evaluator refuses; `reason` is one short code from REASONS."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def evaluate(expr: str) -> Fraction:
    """The exact value of `expr`, or `Rejected` with a reason code."""
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise Rejected("too_long", f"{len(expr)} characters")
    tokens = tokenize(expr)
    if not tokens:
        raise Rejected("empty")
    _check_balanced(tokens)
    parser = _Parser(tokens)
    value = parser.expr()
    if parser.pos != len(tokens):
        raise Rejected("syntax", f"unexpected {parser.peek()!r}")
    return value


def tokenize(expr: str) -> list:
    """The tokens of `expr`: Fraction for numbers, strings for `+ - * / ** // ( )`."""
    tokens: list = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in _SPACES:
            i += 1
        elif ch in _DIGITS or ch in ".$":
            value, i = _read_number(expr, i)
            tokens.append(value)
        elif ch in "*/" and expr.startswith(ch * 2, i):
            tokens.append(ch * 2)
            i += 2
        elif ch in _OPERATORS:
            tokens.append(ch)
            i += 1
        else:
            raise Rejected("bad_character", repr(ch))
    return tokens


def _read_number(expr: str, start: int) -> tuple[Fraction, int]:
    """The literal starting at `start` and the index just after it."""
    i, n = start, len(expr)
    if expr[i] == "$":
        i += 1
    integer, i = _read_digits(expr, i)
    while i < n and expr[i] == "," and integer:
        group, after = _read_digits(expr, i + 1)
        if len(group) != 3:
            raise Rejected("bad_number", "a comma must be followed by exactly three digits")
        integer += group
        i = after
    fraction = ""
    if i < n and expr[i] == ".":
        fraction, i = _read_digits(expr, i + 1)
    if not integer and not fraction:
        raise Rejected("bad_number", expr[start : i + 1])
    if len(integer) + len(fraction) > MAX_NUMBER_DIGITS:
        raise Rejected("number_too_long", f"{len(integer) + len(fraction)} digits")
    # Fraction parses a decimal string exactly; the characters were already checked above.
    return _bounded(Fraction(f"{integer or '0'}.{fraction or '0'}")), i


def _read_digits(expr: str, i: int) -> tuple[str, int]:
    """The run of ASCII digits starting at `i` and the index just after it."""
    start = i
    while i < len(expr) and expr[i] in _DIGITS:
        i += 1
    return expr[start:i], i


def _check_balanced(tokens: list) -> None:
    """Reject before parsing, so `(2+3` says 'unbalanced' rather than 'syntax'."""
    open_count = 0
    for token in tokens:
        if token == "(":
            open_count += 1
        elif token == ")":
            open_count -= 1
            if open_count < 0:
                raise Rejected("unbalanced", "')' without '('")
    if open_count:
        raise Rejected("unbalanced", f"{open_count} '(' not closed")


def _bounded(value: Fraction) -> Fraction:
    """`value` itself, checked against the magnitude and precision caps."""
    if abs(value) > MAX_MAGNITUDE:
        raise Rejected("too_large")
    if value.denominator > MAX_DENOMINATOR:
        raise Rejected("too_precise")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    """`base ** exponent`, exact, refusing anything that could blow up before computing it."""
    if exponent.denominator != 1:
        raise Rejected("non_integer_exponent", str(exponent))
    if abs(exponent) > MAX_EXPONENT:
        raise Rejected("exponent_too_large", str(exponent))
    if base == 0 and exponent < 0:
        raise Rejected("division_by_zero", "0 ** negative")
    # Operands are already capped, so the power has at most ~64 times their bits (tens of
    # kilobits): cheap to compute, then checked like any other intermediate.
    return _bounded(base ** int(exponent))


class _Parser:
    """Recursive descent over a token list, evaluating as it goes (no tree is built)."""

    def __init__(self, tokens: list):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            raise Rejected("syntax", "expression ends too early")
        self.pos += 1
        return token

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = _bounded(value + right if op == "+" else value - right)
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/", "//"):
            op = self.take()
            right = self.unary()
            if op == "*":
                value = _bounded(value * right)
            elif right == 0:
                raise Rejected("division_by_zero")
            elif op == "/":
                value = _bounded(value / right)
            else:
                # Fraction's // floors the exact quotient, which is Python's rule for ints and
                # floats alike (-7//2 is -4); the result is an integer no larger than value / right.
                value = _bounded(Fraction(value // right))
        return value

    def unary(self) -> Fraction:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Rejected("too_deep", f"more than {MAX_DEPTH} levels")
        if self.peek() in ("+", "-"):
            sign = self.take()
            value = self.unary()
            value = -value if sign == "-" else value
        else:
            value = self.power()
        self.depth -= 1
        return value

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "**":
            self.take()
            return _power(base, self.unary())
        return base

    def atom(self) -> Fraction:
        token = self.take()
        if isinstance(token, Fraction):
            return token
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise Rejected("syntax", "expected ')'")
            return value
        raise Rejected("syntax", f"unexpected {token!r}")
