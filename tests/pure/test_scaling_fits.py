import math

import pytest

from rft.studies.fits import fit_line, fit_log_linear, pearson


def test_a_line_through_exact_points_is_recovered_with_r2_one():
    fit = fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert (fit.a, fit.b, fit.r2, fit.n) == (1.0, 2.0, 1.0, 4)
    assert fit.predict(10) == 21.0


def test_a_line_through_scattered_points_is_the_least_squares_one():
    # x and y both average 1; slope = sum(dx*dy) / sum(dx^2) = 1/2; residuals 0.5, -1, 0.5
    fit = fit_line([0, 1, 2], [1, 0, 2])
    assert fit.b == pytest.approx(0.5)
    assert fit.a == pytest.approx(0.5)
    # ss_res = (1-0.5)^2 + (0-1)^2 + (2-1.5)^2 = 1.5; ss_tot = 2
    assert fit.r2 == pytest.approx(0.25)


def test_a_log_linear_law_is_exact_on_points_it_generated():
    xs = [1, 2, 4, 8, 16]
    ys = [0.1 + 0.05 * math.log(x) for x in xs]
    fit = fit_log_linear(xs, ys)
    assert fit.a == pytest.approx(0.1)
    assert fit.b == pytest.approx(0.05)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.log_x and fit.predict(32) == pytest.approx(0.1 + 0.05 * math.log(32))


def test_flat_y_has_no_r2_and_serialises_as_null():
    fit = fit_line([1, 2, 3], [0.4, 0.4, 0.4])
    assert fit.b == 0.0 and math.isnan(fit.r2)
    assert fit.to_dict()["r2"] is None


def test_pearson_of_exact_relations_and_of_no_variation():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert math.isnan(pearson([1, 2, 3], [5, 5, 5]))


def test_impossible_fits_are_clear_errors():
    with pytest.raises(ValueError, match="x > 0"):
        fit_log_linear([0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="two distinct x"):
        fit_line([2, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_line([1], [0.1])
    with pytest.raises(ValueError, match="differ in length"):
        pearson([1, 2], [1])
