"""Figures of the scaling studies, as PNG bytes, with 95% intervals as error bars.

    png = rft_vs_k_plot(points, fits)      # accuracy vs k, and vs distinct paths
    png = sft_vs_data_plot(points, fit)    # accuracy vs SFT examples (log axis) with the log-linear law

`points` has one row per cell: model, x, distinct_paths, n_sft_rows, accuracy, ci_low, ci_high.
Drawn like rft/reporting/run_plots.py: matplotlib's object API on an Agg canvas, no global state.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rft.studies.fits import Fit

DPI = 100


def rft_vs_k_plot(points: pd.DataFrame, fits: dict[str, dict[str, Fit | None]]) -> bytes:
    """Two panels: accuracy against k (log axis, law in ln k) and against distinct paths (line)."""
    fig = Figure(figsize=(10.0, 4.0), dpi=DPI)
    FigureCanvasAgg(fig)
    by_k, by_paths = fig.subplots(1, 2)
    for model, group in points.groupby("model", sort=True):
        fit = fits.get(model, {})
        line = errorbars(by_k, group.sort_values("x"), "x", model)
        draw_fit(by_k, fit.get("k"), group["x"], line.get_color(), "k")
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
    fig = Figure(figsize=(6.4, 4.0), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
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


def errorbars(ax, group: pd.DataFrame, x: str, label: str):
    # Arrays, not Series: matplotlib calls float() on one-row Series, which pandas deprecates.
    y = 100 * group["accuracy"].to_numpy(dtype=float)
    err = [y - 100 * group["ci_low"].to_numpy(dtype=float), 100 * group["ci_high"].to_numpy(dtype=float) - y]
    bars = ax.errorbar(group[x].to_numpy(dtype=float), y, yerr=err, marker="o", linestyle="none", capsize=3,
                       label=label)
    return bars.lines[0]


def draw_fit(ax, fit: Fit | None, xs: pd.Series, color, x_name: str) -> None:
    """The fitted law, dashed, labelled in accuracy as a fraction (the axis shows percent)."""
    if fit is None:
        return
    low, high = float(xs.min()), float(xs.max())
    grid = np.geomspace(low, high, 50) if fit.log_x else np.linspace(low, high, 50)
    r2 = "n/a" if fit.to_dict()["r2"] is None else f"{fit.r2:.2f}"
    law = f"acc = {fit.a:.3f} + {fit.b:.3g} {'ln ' if fit.log_x else ''}{x_name}, R² {r2}"  # .3g: a slope per path is ~1e-6
    ax.plot(grid, [100 * fit.predict(v) for v in grid], color=color, linestyle="--", linewidth=1, label=law)


def legend(ax, empty: bool) -> None:
    if empty:
        ax.text(0.5, 0.5, "no cells yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=7)


def png_bytes(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
