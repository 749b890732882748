"""Holm's adjustment and the paired test over training seeds, on cases small enough to do by hand."""

import random

import pytest

from rft.evaluation.significance import holm_adjust, mcnemar_p_value, paired_seed_test, seed_summary


def test_holm_multiplies_the_smallest_by_m_and_keeps_the_order():
    # sorted: 0.01*3 = 0.03, 0.02*2 = 0.04, 0.04*1 = 0.04; back in the tests' order
    assert holm_adjust([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])


def test_holm_never_lets_a_larger_p_value_get_a_smaller_adjustment():
    # 0.011*2 = 0.022 would fall below 0.01*3 = 0.03: step-down keeps it at 0.03
    assert holm_adjust([0.01, 0.011, 0.5]) == pytest.approx([0.03, 0.03, 0.5])


def test_holm_caps_at_one_and_leaves_a_single_test_alone():
    assert holm_adjust([0.6, 0.7]) == [1.0, 1.0]
    assert holm_adjust([0.2]) == [0.2]
    assert holm_adjust([]) == []
    with pytest.raises(ValueError, match="p-values"):
        holm_adjust([1.5])


def test_seed_summary_gives_mean_and_sample_spread():
    summary = seed_summary([0.30, 0.32, 0.34])
    assert summary["mean"] == pytest.approx(0.32)
    assert summary["sd"] == pytest.approx(0.02)
    assert (summary["min"], summary["max"], summary["n_seeds"]) == (0.30, 0.34, 3)
    assert seed_summary([0.3])["sd"] is None


def test_one_seed_per_arm_is_the_exact_mcnemar_test():
    a = [[1, 1, 0, 0, 1]]
    b = [[0, 0, 0, 1, 1]]  # A alone right on 2 questions, B alone on 1
    result = paired_seed_test(a, b)
    assert result["p_value"] == pytest.approx(mcnemar_p_value(2, 1)) == pytest.approx(1.0)
    assert result["diff"] == pytest.approx(1 / 5)


def test_one_seed_agrees_with_mcnemar_on_larger_random_grades():
    rng = random.Random(0)
    a = [[int(rng.random() < 0.45) for _ in range(300)]]
    b = [[int(rng.random() < 0.35) for _ in range(300)]]
    only_a = sum(x > y for x, y in zip(a[0], b[0]))
    only_b = sum(y > x for x, y in zip(a[0], b[0]))
    assert paired_seed_test(a, b)["p_value"] == pytest.approx(mcnemar_p_value(only_a, only_b), rel=1e-9)


def test_two_seeds_by_hand():
    a = [[1, 1, 1], [1, 1, 0]]
    b = [[0, 1, 0], [0, 0, 0]]
    # Seed-averaged differences: q0 1 - 0 = 1, q1 1 - 1/2 = 1/2, q2 1/2 - 0 = 1/2; total 2.
    # Sign flips of (1, 1/2, 1/2): totals 2, 1, 1, 0, 0, -1, -1, -2, each with probability 1/8;
    # |total| >= 2 in 2 of 8.
    result = paired_seed_test(a, b)
    assert result["p_value"] == pytest.approx(0.25)
    assert result["diff"] == pytest.approx(2 / 3)
    assert result["accuracy_a"]["mean"] == pytest.approx(5 / 6)
    assert result["accuracy_b"]["mean"] == pytest.approx(1 / 6)


def test_arms_may_have_different_numbers_of_seeds():
    a = [[1, 0], [1, 1], [0, 0]]  # question means 2/3 and 1/3
    b = [[1, 0]]
    result = paired_seed_test(a, b)
    # differences -1/3 and 1/3 cancel: no evidence either way
    assert result["diff"] == pytest.approx(0.0)
    assert result["p_value"] == pytest.approx(1.0)


def test_identical_arms_have_p_one_and_bad_input_is_refused():
    assert paired_seed_test([[1, 0, 1]], [[1, 0, 1]])["p_value"] == 1.0
    with pytest.raises(ValueError, match="same questions"):
        paired_seed_test([[1, 0]], [[1, 0, 1]])
    with pytest.raises(ValueError, match="0 or 1"):
        paired_seed_test([[1, 2]], [[1, 0]])
    with pytest.raises(ValueError, match="at least one seed"):
        paired_seed_test([], [[1]])
