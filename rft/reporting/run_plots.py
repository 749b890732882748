"""The two figures of a run, as PNG bytes: pass@k per model, accuracy vs distinct paths trained on.

    png = pass_at_k_plot(curve)            # curve: rft.evaluation.pass_at_k.pass_at_k_curve(...)
    markdown_image(png, "pass@k")          # ![pass@k](data:image/png;base64,...) for Dagster metadata

Drawn with the shared parts of rft/reporting/plot_parts.py.
"""

from __future__ import annotations

import base64

import pandas as pd

from rft.evaluation.arms import SFT_MATCHED
from rft.reporting.arm_tables import seed_means
from rft.reporting.plot_parts import canvas, errorbars, legend, png_bytes


def pass_at_k_plot(curve: pd.DataFrame) -> bytes:
    """pass@k (%) against k on a log2 axis, one line per model."""
    fig, ax = _figure()
    for model, group in curve.groupby("model", sort=True):
        ax.plot(group["k"], 100 * group["pass_at_k"], marker="o", label=model)
    ks = sorted(set(curve["k"]))
    if ks and max(ks) > 1:
        ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("k (first k samples per question)")
    ax.set_ylabel("questions with a correct path (%)")
    ax.set_title("pass@k on the train questions")
    ax.set_ylim(0, 100)
    return _png(fig, ax, empty=curve.empty)


def accuracy_vs_paths_plot(points: pd.DataFrame) -> bytes:
    """Test accuracy (%) against distinct RFT paths trained on (SFT at 0), per model, mean over seeds.

    SFT and RFT are joined by a line; each step-matched SFT control is a hollow marker beside the
    RFT point it matches (same steps, no paths), so the gain over it reads off vertically. Bars:
    the 95% Wilson interval with one seed, mean ± sd over seeds with several.
    """
    fig, ax = _figure()
    means = seed_means(points) if not points.empty else points
    for model, group in (means.groupby("model", sort=True) if not means.empty else ()):
        trained = group[group["stage"] != SFT_MATCHED].sort_values("distinct_paths")
        line = errorbars(ax, trained, "distinct_paths", model, joined=True)
        for x, acc, name in zip(trained["distinct_paths"], 100 * trained["accuracy"], trained["training_set"]):
            ax.annotate(name.split(":")[0], (x, acc), textcoords="offset points", xytext=(4, 4), fontsize=7)
        controls = group[group["stage"] == SFT_MATCHED]
        if not controls.empty:
            y = 100 * controls["accuracy"].to_numpy(dtype=float)
            err = [y - 100 * controls["ci_low"].to_numpy(dtype=float), 100 * controls["ci_high"].to_numpy(dtype=float) - y]
            ax.errorbar(controls["x_paths"].to_numpy(dtype=float), y, yerr=err, marker="s", markerfacecolor="none",
                        linestyle="none", capsize=3, color=line.get_color(), label=f"{model} SFT, steps matched")
    ax.set_xlabel("distinct RFT paths trained on (SFT: 0; step-matched SFT beside its RFT)")
    ax.set_ylabel("test accuracy, greedy (%)")
    ax.set_title("accuracy vs distinct reasoning paths")
    return _png(fig, ax, empty=points.empty)


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def markdown_image(png: bytes, alt: str) -> str:
    """Markdown that Dagster's UI shows as the image (its sanitizer allows data: URIs for images)."""
    return f"![{alt}]({png_data_uri(png)})"


def _figure():
    fig, ax = canvas()
    ax.grid(True, alpha=0.3)
    return fig, ax


def _png(fig, ax, empty: bool) -> bytes:
    legend(ax, empty, empty_note="no data yet", fontsize=8)
    return png_bytes(fig)
