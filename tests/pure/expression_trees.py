"""Random arithmetic expressions as trees, and an independent reference for what they mean.

The tests compare `rft.filter.arithmetic.evaluate` on the rendered text with `reference(tree)`, which
walks the tree itself with `fractions.Fraction` (never `eval`) and applies the limits as
docs/verification.md states them (the numbers are written here again on purpose, so that a
change in the code that the page does not describe fails the tests).

    tree = Bin("+", Num("2", Fraction(2)), Pow(Num("3", Fraction(3)), Num("2", Fraction(2))))
    render(tree)     -> "2+3**2"
    reference(tree)  -> (Fraction(11), set())     # value, and the limits it breaks (none)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st

# The limits of docs/verification.md, section 3.
MAX_CHARS, MAX_DIGITS, MAX_DEPTH, MAX_EXPONENT = 200, 30, 20, 64
MAX_MAGNITUDE, MAX_DENOMINATOR = 10**30, 10**60


@dataclass(frozen=True)
class Num:
    text: str
    value: Fraction


@dataclass(frozen=True)
class Sign:
    sign: str  # '-' or '+'
    child: object


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / //
    left: object
    right: object


@dataclass(frozen=True)
class Pow:
    base: object
    exponent: object


@dataclass(frozen=True)
class Paren:
    child: object


@dataclass(frozen=True)
class Spaced:
    """A tree and the whitespace to put around its tokens."""

    tree: object
    space: str


# -- precedence: where parentheses are required ---------------------------------------------

_PRECEDENCE = {Bin: None, Sign: 2, Pow: 2, Num: 3, Paren: 3}  # Bin: 0 for + -, 1 for * / //


def _precedence(node) -> int:
    if isinstance(node, Bin):
        return 0 if node.op in "+-" else 1
    return _PRECEDENCE[type(node)]


def _at_least(node, level: int):
    return node if _precedence(node) >= level else Paren(node)


def parenthesize(node):
    """`node` with the parentheses Python's precedence needs (`-2**2` is -(2**2), `2**3**2` is 2**(3**2))."""
    if isinstance(node, Num):
        return node
    if isinstance(node, Paren):
        return Paren(parenthesize(node.child))
    if isinstance(node, Sign):
        return Sign(node.sign, _at_least(parenthesize(node.child), 2))
    if isinstance(node, Pow):
        return Pow(_at_least(parenthesize(node.base), 3), _at_least(parenthesize(node.exponent), 2))
    left, right = parenthesize(node.left), parenthesize(node.right)
    if node.op in "+-":
        return Bin(node.op, left, _at_least(right, 1))
    return Bin(node.op, _at_least(left, 1), _at_least(right, 2))


# -- text, depth and value --------------------------------------------------------------------


def render(node, space: str = "") -> str:
    s = space
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Paren):
        return f"({s}{render(node.child, s)}{s})"
    if isinstance(node, Sign):
        return f"{node.sign}{s}{render(node.child, s)}"
    if isinstance(node, Pow):
        return f"{render(node.base, s)}{s}**{s}{render(node.exponent, s)}"
    return f"{render(node.left, s)}{s}{node.op}{s}{render(node.right, s)}"


def depth(node) -> int:
    """Nesting as the docs count it: the side is one level; each `(`, sign and `**` adds one."""
    if isinstance(node, Bin):
        return max(depth(node.left), depth(node.right))
    if isinstance(node, Num):
        return 1
    if isinstance(node, Paren):
        return 1 + depth(node.child)
    if isinstance(node, Sign):
        return 1 + depth(node.child)
    base = 0 if isinstance(node.base, Num) else depth(node.base.child)  # the base is a Num or a Paren
    return 1 + max(base, depth(node.exponent))


def _bounded(value: Fraction, problems: set) -> Fraction | None:
    if abs(value) > MAX_MAGNITUDE:
        problems.add("too_large")
        return None
    if value.denominator > MAX_DENOMINATOR:
        problems.add("too_precise")
        return None
    return value


def _value(node, problems: set) -> Fraction | None:
    """The exact value, or None once a limit is broken below (every broken limit is collected)."""
    if isinstance(node, Num):
        if sum(c.isdigit() for c in node.text) > MAX_DIGITS:
            problems.add("number_too_long")
            return None
        return _bounded(node.value, problems)
    if isinstance(node, Paren):
        return _value(node.child, problems)
    if isinstance(node, Sign):
        child = _value(node.child, problems)
        return None if child is None else (-child if node.sign == "-" else child)
    if isinstance(node, Pow):
        base, exponent = _value(node.base, problems), _value(node.exponent, problems)
        if base is None or exponent is None:
            return None
        if exponent.denominator != 1:
            problems.add("non_integer_exponent")
        elif abs(exponent) > MAX_EXPONENT:
            problems.add("exponent_too_large")
        elif base == 0 and exponent < 0:
            problems.add("division_by_zero")
        else:
            return _bounded(base ** int(exponent), problems)
        return None
    left, right = _value(node.left, problems), _value(node.right, problems)
    if left is None or right is None:
        return None
    if node.op in ("/", "//") and right == 0:
        problems.add("division_by_zero")
        return None
    result = {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
              "/": lambda: left / right, "//": lambda: Fraction(left // right)}[node.op]()
    return _bounded(result, problems)


def reference(spaced: Spaced) -> tuple[str, Fraction | None, set[str]]:
    """(text, exact value, broken limits) of a tree; the value is None when a limit is broken."""
    text = render(spaced.tree, spaced.space)
    problems: set[str] = set()
    value = _value(spaced.tree, problems)
    if len(text) > MAX_CHARS:
        problems.add("too_long")
    if depth(spaced.tree) > MAX_DEPTH:
        problems.add("too_deep")
    return text, (value if not problems else None), problems


# -- hypothesis strategies ----------------------------------------------------------------------


def _integer_text(n: int, style: str) -> str:
    text = f"{n:,}" if style == "commas" else str(n)
    return "$" + text if style == "dollar" else text


@st.composite
def integers(draw, max_value: int) -> Num:
    n = draw(st.integers(0, max_value))
    return Num(_integer_text(n, draw(st.sampled_from(["plain", "plain", "commas", "dollar"]))), Fraction(n))


@st.composite
def decimals(draw) -> Num:
    places = draw(st.integers(1, 4) | st.integers(5, 32))
    whole, part = draw(st.integers(0, 10**6) | st.integers(0, 10**31)), draw(st.integers(0, 10**places - 1))
    fraction = str(part).rjust(places, "0")
    style = draw(st.sampled_from(["plain", "no_whole", "trailing_dot", "commas"]))
    if style == "trailing_dot":  # `5.` is 5
        return Num(f"{whole}.", Fraction(whole))
    if style == "no_whole" and whole == 0:  # `.5`
        return Num(f".{fraction}", Fraction(part, 10**places))
    return Num(f"{_integer_text(whole, 'commas' if style == 'commas' else 'plain')}.{fraction}",
               Fraction(whole * 10**places + part, 10**places))


def _number(n: int) -> Num:
    return Num(str(n), Fraction(n))


def _nested(child, layers: list[str]):
    """`child` inside parentheses and signs, one per layer: depths around MAX_DEPTH."""
    for layer in layers:
        child = Paren(child) if layer == "(" else Sign(layer, child)
    return child


# Values at the edges of the limits, where an off-by-one would show.
edges = st.one_of(
    st.sampled_from([_number(int("9" * 30)), _number(int("9" * 31)), _number(10**29)]),
    st.builds(Pow, st.just(_number(10)), st.sampled_from([29, 30, 31]).map(_number)),  # 10**30 is the largest value
    st.builds(Pow, st.just(_number(10)), st.sampled_from([59, 60, 61]).map(lambda e: Sign("-", _number(e)))),
    st.builds(Pow, st.sampled_from([1, 2]).map(_number), st.sampled_from([63, 64, 65]).map(_number)),
    st.builds(Pow, st.just(_number(2)), st.sampled_from([64, 65]).map(lambda e: Sign("-", _number(e)))),
)
# Mostly small numbers, so that most trees stay within the limits; some break them on purpose.
leaves = st.one_of(integers(12), integers(12), integers(999), integers(10**15), decimals(), decimals(),
                   integers(10**33), edges)
exponents = st.one_of(integers(9), integers(9).map(lambda n: Sign("-", n)), integers(70), decimals())


def _extend(children):
    return st.one_of(
        st.builds(Bin, st.sampled_from(["+", "-", "*", "/", "//"]), children, children),
        st.builds(Sign, st.sampled_from("-+"), children),
        st.builds(Pow, children, exponents | children),
        st.builds(Paren, children),
        st.builds(_nested, children, st.lists(st.sampled_from("(-+"), min_size=16, max_size=21)),
    )


trees = st.recursive(leaves, _extend, max_leaves=10).map(parenthesize)
spaced_trees = st.builds(Spaced, trees, st.sampled_from(["", "", " ", "\t", " \n "]))
