"""The curves the scaling studies fit: a log-linear law, a straight line, Pearson's r.

    fit = fit_log_linear([1, 2, 4], [0.10, 0.15, 0.20])   # y = a + b * ln(x)
    fit.a, fit.b, fit.r2, fit.predict(8)
    line = fit_line(losses, accuracies)                    # y = a + b * x
    pearson(losses, accuracies)

Ordinary least squares in closed form: the studies have a handful of points, and the fit's
numbers are stored next to them, so they must not depend on an optimiser's tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Fit:
    """y = a + b * f(x), with f the identity (line) or the natural log (log-linear)."""

    a: float  # intercept
    b: float  # slope (per unit of x, or per unit of ln x)
    r2: float  # coefficient of determination; nan when every y is the same
    n: int  # points fitted
    log_x: bool

    def predict(self, x: float) -> float:
        return self.a + self.b * (math.log(x) if self.log_x else x)

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def fit_line(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Least-squares y = a + b * x; needs two or more distinct x."""
    return _least_squares([float(v) for v in x], [float(v) for v in y], log_x=False)


def fit_log_linear(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Least-squares y = a + b * ln(x), the paper's law for accuracy against data; x must be > 0."""
    if any(v <= 0 for v in x):
        raise ValueError(f"a log-linear fit needs x > 0, got {sorted(x)[0]}")
    return _least_squares([math.log(v) for v in x], [float(v) for v in y], log_x=True)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's correlation coefficient; nan when either side does not vary."""
    _check_pairs(x, y, minimum=2)
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if min(x) == max(x) or min(y) == max(y):
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def _least_squares(t: list[float], y: list[float], log_x: bool) -> Fit:
    _check_pairs(t, y, minimum=2)
    mt, my = sum(t) / len(t), sum(y) / len(y)
    stt = sum((v - mt) ** 2 for v in t)
    if min(t) == max(t):
        raise ValueError("a fit needs at least two distinct x values")
    b = sum((u - mt) * (v - my) for u, v in zip(t, y)) / stt
    a = my - b * mt
    ss_res = sum((v - (a + b * u)) ** 2 for u, v in zip(t, y))
    ss_tot = sum((v - my) ** 2 for v in y)
    # Flat y is tested exactly: its mean can be a rounding error away from every point.
    r2 = 1 - ss_res / ss_tot if min(y) != max(y) else math.nan
    return Fit(a=a, b=b, r2=r2, n=len(t), log_x=log_x)


def _check_pairs(x: Sequence[float], y: Sequence[float], minimum: int) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    if len(x) < minimum:
        raise ValueError(f"need at least {minimum} points, got {len(x)}")


def fit_if_possible(fitter, x: Sequence[float], y: Sequence[float]) -> Fit | None:
    """`fitter(x, y)`, or None while there are fewer than two distinct x (a study's first cell)."""
    if len(set(x)) < 2:
        return None
    return fitter(x, y)
