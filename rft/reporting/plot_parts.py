"""What every figure shares: the canvas, error bars, fitted laws and their labels, the legend, PNG bytes.

    fig, ax = canvas()                                  # one panel, SIZE at DPI
    fig, (left, right) = canvas(10.0, panels=2)
    line = errorbars(ax, cells, "x", "model-a")         # accuracy (%) with its 95% interval
    draw_fit(ax, fit, cells["x"], line.get_color(), "k")  # dashed, labelled "acc = a + b ln k, R² r2"
    legend(ax, empty=cells.empty)
    png = png_bytes(fig)

Matplotlib's object API on an Agg canvas (no pyplot, no display, no global state), so a figure
renders the same in a Dagster step, a CLI or a test. `cells` hold accuracy, ci_low and ci_high
as fractions; the axes show percent.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rft.studies.fits import Fit

SIZE = (6.4, 4.0)  # inches, one panel
DPI = 100


def canvas(width: float = SIZE[0], panels: int = 1):
    """A figure of `panels` side by side: (fig, ax), or (fig, array of axes)."""
    fig = Figure(figsize=(width, SIZE[1]), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, panels)


def errorbars(ax, cells: pd.DataFrame, x: str, label: str, joined: bool = False):
    """Accuracy (%) against `x` with 95% intervals; `joined` draws a line through the points.

    Returns the line of the points, whose colour the fit of the same series takes.
    """
    # Arrays, not Series: matplotlib calls float() on one-row Series, which pandas deprecates.
    y = 100 * cells["accuracy"].to_numpy(dtype=float)
    err = [y - 100 * cells["ci_low"].to_numpy(dtype=float), 100 * cells["ci_high"].to_numpy(dtype=float) - y]
    bars = ax.errorbar(cells[x].to_numpy(dtype=float), y, yerr=err, marker="o", capsize=3, label=label,
                       linestyle="-" if joined else "none")
    return bars.lines[0]


def fit_label(fit: dict, x_name: str) -> str:
    """'acc = 0.120 - 0.0132 ln k, R² 0.91': the slope's sign written once; r where the fit has one.

    `fit` as stored (Fit.to_dict(), with pearson_r where computed); accuracy as a fraction.
    """
    r = fit.get("pearson_r")
    stat = f"r {r:.2f}" if r is not None else ("R² n/a" if fit.get("r2") is None else f"R² {fit['r2']:.2f}")
    sign = "-" if fit["b"] < 0 else "+"
    # .3g: a slope per path is ~1e-6
    return f"acc = {fit['a']:.3f} {sign} {abs(fit['b']):.3g} {'ln ' if fit['log_x'] else ''}{x_name}, {stat}"


def draw_fit(ax, fit: Fit | dict | None, xs: pd.Series, color, x_name: str) -> None:
    """The fitted law, dashed over the range of `xs`, with its label; nothing without a fit."""
    if not fit:
        return
    if isinstance(fit, Fit):
        fit = fit.to_dict()
    low, high = float(xs.min()), float(xs.max())
    grid = np.geomspace(low, high, 50) if fit["log_x"] else np.linspace(low, high, 50)
    values = [100 * (fit["a"] + fit["b"] * (math.log(v) if fit["log_x"] else v)) for v in grid]
    ax.plot(grid, values, color=color, linestyle="--", linewidth=1, label=fit_label(fit, x_name))


def legend(ax, empty: bool, empty_note: str = "no cells yet", fontsize: int = 7) -> None:
    """The legend, or `empty_note` in the middle of an empty panel."""
    if empty:
        ax.text(0.5, 0.5, empty_note, ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=fontsize)


def png_bytes(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
