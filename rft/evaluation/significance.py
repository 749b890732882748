"""The statistics every accuracy comparison uses: Wilson intervals and the exact paired McNemar test.

The one place these are computed in Python; the dbt marts compute the same Wilson interval
in SQL (`dbt/macros/`), and tests check the two agree.
"""

import math


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion: sane at 0%, 100% and small n, unlike p +- z*se."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0% and 100% rounding can leave a bound a hair past p (1e-17 > 0): the interval holds p.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def mcnemar_p_value(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar test for two models graded on the same questions.

    `only_a`: questions A answers right and B wrong; `only_b` the reverse. Questions both get
    right or wrong say nothing about which is better, so only the discordant ones count: under
    "no difference" each is A's with probability 1/2. Two models' 95% intervals can overlap
    while this paired test still tells them apart.
    """
    if only_a < 0 or only_b < 0:
        raise ValueError(f"counts must be >= 0, got {only_a} and {only_b}")
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)
