"""The statistics every accuracy comparison uses: Wilson intervals, the exact paired McNemar test,
the paired test over training seeds, and Holm's adjustment for a family of tests.

The one place these are computed in Python; the dbt marts compute the same Wilson interval
in SQL (`dbt/macros/`), and tests check the two agree.
"""

import math
from collections.abc import Sequence

import numpy as np


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


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: the family-wise error stays at alpha over all m tests.

    Sort the p-values, multiply the i-th smallest (from 0) by m - i, keep the sequence
    non-decreasing, cap at 1; each adjusted value goes back to its test's place.
    """
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must lie in [0, 1], got {p}")
    m = len(p_values)
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def seed_summary(accuracies: Sequence[float]) -> dict:
    """Mean and spread of one arm's accuracy over its training seeds (sd is None for one seed)."""
    if not accuracies:
        raise ValueError("seed_summary needs at least one seed's accuracy")
    n = len(accuracies)
    mean = sum(accuracies) / n
    sd = math.sqrt(sum((a - mean) ** 2 for a in accuracies) / (n - 1)) if n > 1 else None
    return {"n_seeds": n, "mean": mean, "sd": sd, "min": min(accuracies), "max": max(accuracies)}


def paired_seed_test(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> dict:
    """Compare two arms graded on the same questions, each trained with one or more seeds.

    `a[s][q]` is 1 when arm A's seed-s model answers question q right. Seeds are replicates:
    each question's score is its mean over an arm's seeds, and the test is the exact paired
    sign-flip (randomisation) test on the per-question differences. Under "no difference"
    each question's difference is as likely to be negative as positive; the p-value is the
    share of the 2^n sign assignments whose total is at least as far from 0 as the observed
    one, counted exactly. With one seed per arm this is the exact McNemar test. The arms may
    have different numbers of seeds; the question, not the seed, is the unit of the test.
    """
    _check_grades(a, "a")
    _check_grades(b, "b")
    n_questions = len(a[0])
    if any(len(row) != n_questions for row in (*a, *b)):
        raise ValueError("every seed of both arms must be graded on the same questions")
    n_a, n_b = len(a), len(b)
    # Differences scaled by n_a * n_b are whole numbers, so the null distribution of their
    # signed sum can be built exactly on an integer grid.
    weights = [n_b * sum(row[q] for row in a) - n_a * sum(row[q] for row in b) for q in range(n_questions)]
    observed = sum(weights)
    sizes = [abs(w) for w in weights if w]
    total = sum(sizes)
    counts = np.zeros(2 * total + 1)
    counts[total] = 1.0
    for size in sizes:  # each nonzero difference adds +size or -size with probability 1/2
        counts = 0.5 * (np.roll(counts, size) + np.roll(counts, -size))
    sums = np.arange(-total, total + 1)
    p_value = float(min(1.0, counts[np.abs(sums) >= abs(observed)].sum())) if sizes else 1.0

    per_question = np.array(weights, dtype=float) / (n_a * n_b)
    diff = float(per_question.mean())
    half = 1.96 * float(per_question.std(ddof=1)) / math.sqrt(n_questions) if n_questions > 1 else float("nan")
    acc_a = [sum(row) / n_questions for row in a]
    acc_b = [sum(row) / n_questions for row in b]
    return {
        "n_questions": n_questions, "seeds_a": n_a, "seeds_b": n_b,
        "accuracy_a": seed_summary(acc_a), "accuracy_b": seed_summary(acc_b),
        "diff": diff, "ci_low": diff - half, "ci_high": diff + half,  # normal interval on the mean difference
        "p_value": p_value, "method": "exact paired sign-flip test on seed-averaged question scores",
    }


def _check_grades(grades: Sequence[Sequence[int]], name: str) -> None:
    if not grades or not grades[0]:
        raise ValueError(f"arm {name} needs at least one seed graded on at least one question")
    for row in grades:
        if any(g not in (0, 1) for g in row):
            raise ValueError(f"arm {name}: grades must be 0 or 1 (or booleans)")
