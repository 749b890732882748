"""Figures of the scaling studies, as PNG bytes, with 95% intervals as error bars.

    png = rft_vs_k_plot(points, fits)      # accuracy vs k (step-matched SFT controls beside), and vs distinct paths
    png = sft_vs_data_plot(points, fit)    # accuracy vs SFT examples (log axis) with the log-linear law

`points` has one row per cell: model, x, distinct_paths, n_sft_rows, accuracy, ci_low, ci_high.
Drawn with the shared parts of rft/reporting/plot_parts.py.
"""

from __future__ import annotations

import pandas as pd

from rft.reporting.plot_parts import canvas, draw_fit, errorbars, legend, png_bytes
from rft.studies.fits import Fit
from rft.studies.study_summary import split_controls


def rft_vs_k_plot(points: pd.DataFrame, fits: dict[str, dict[str, Fit | None]]) -> bytes:
    """Two panels: accuracy against k (log axis, law in ln k) and against distinct paths (line)."""
    fig, (by_k, by_paths) = canvas(10.0, panels=2)
    points, controls = split_controls(points)
    for model, group in points.groupby("model", sort=True):
        fit = fits.get(model, {})
        line = errorbars(by_k, group.sort_values("x"), "x", model)
        draw_fit(by_k, fit.get("k"), group["x"], line.get_color(), "k")
        matched = controls[controls["model"] == model].sort_values("x")
        if not matched.empty:  # hollow squares: the SFT data alone for the same steps as the RFT cell at k
            y = 100 * matched["accuracy"].to_numpy(dtype=float)
            err = [y - 100 * matched["ci_low"].to_numpy(dtype=float), 100 * matched["ci_high"].to_numpy(dtype=float) - y]
            by_k.errorbar(matched["x"].to_numpy(dtype=float), y, yerr=err, marker="s", markerfacecolor="none",
                          linestyle="none", capsize=3, color=line.get_color(), label=f"{model} SFT, steps matched")
        line = errorbars(by_paths, group.sort_values("distinct_paths"), "distinct_paths", model)
        draw_fit(by_paths, fit.get("distinct_paths"), group["distinct_paths"], line.get_color(), "paths")
    ks = sorted(set(points["x"]))
    if len(ks) > 1:
        by_k.set_xscale("log")
        by_k.set_xticks(ks, [f"{k:g}" for k in ks])
    by_k.set_xlabel("k (first k samples per train question)")
    by_paths.set_xlabel("distinct reasoning paths trained on")
    for ax, title in ((by_k, "RFT accuracy vs k"), (by_paths, "RFT accuracy vs distinct paths")):
        ax.set_ylabel("test accuracy, greedy (%)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        legend(ax, points.empty)
    return png_bytes(fig)


def sft_vs_data_plot(points: pd.DataFrame, fits: dict[str, Fit | None]) -> bytes:
    """Accuracy against SFT examples on a log axis, with each model's fitted y = a + b ln(x)."""
    fig, ax = canvas()
    for model, group in points.groupby("model", sort=True):
        line = errorbars(ax, group.sort_values("n_sft_rows"), "n_sft_rows", model)
        draw_fit(ax, fits.get(model), group["n_sft_rows"], line.get_color(), "examples")
    if len(set(points["n_sft_rows"])) > 1:
        ax.set_xscale("log")
    ax.set_xlabel("SFT examples (nested fractions of the train split)")
    ax.set_ylabel("test accuracy, greedy (%)")
    ax.set_title("SFT accuracy vs amount of data")
    ax.grid(True, alpha=0.3)
    legend(ax, points.empty)
    return png_bytes(fig)
