"""The parts every figure shares: the fitted law's label, the drawn fit and PNG bytes."""

import pandas as pd

from rft.reporting.plot_parts import canvas, draw_fit, errorbars, fit_label, legend, png_bytes
from rft.studies.fits import fit_log_linear


def test_a_negative_slope_is_written_with_a_minus_sign_not_plus_minus():
    fit = {"a": 0.12, "b": -0.0132, "log_x": True, "r2": 0.91}
    assert fit_label(fit, "k") == "acc = 0.120 - 0.0132 ln k, R² 0.91"


def test_a_line_with_pearsons_r_shows_r_and_a_tiny_slope_keeps_its_digits():
    fit = {"a": 0.3, "b": 1.5e-6, "log_x": False, "r2": 0.25, "pearson_r": 0.5}
    assert fit_label(fit, "paths") == "acc = 0.300 + 1.5e-06 paths, r 0.50"
    assert fit_label({**fit, "pearson_r": None, "r2": None}, "paths") == "acc = 0.300 + 1.5e-06 paths, R² n/a"


def test_a_fitted_law_is_drawn_dashed_with_its_label_and_the_figure_is_a_png():
    cells = pd.DataFrame({"x": [1, 4], "accuracy": [0.3, 0.2], "ci_low": [0.2, 0.1], "ci_high": [0.4, 0.3]})
    fig, ax = canvas()
    line = errorbars(ax, cells, "x", "model-a")
    draw_fit(ax, fit_log_linear(cells["x"], cells["accuracy"]), cells["x"], line.get_color(), "k")
    legend(ax, empty=False)
    assert ax.get_legend_handles_labels()[1] == ["acc = 0.300 - 0.0721 ln k, R² 1.00", "model-a"]  # 0.1 / ln 4
    assert png_bytes(fig).startswith(b"\x89PNG\r\n\x1a\n")
