"""Figures of the categorical and cross-model studies, as PNG bytes, with 95% intervals as error bars.

    png = diversity_plot(points, entries)    # accuracy per selection; accuracy vs distinct paths
    png = union_gain_plot(points, entries)   # own vs union per model, with the gain
    png = pretrain_loss_plot(entries)        # accuracy vs held-out loss, and vs parameters

`points` are a study's cells (model, arm, seed, distinct_paths, accuracy, ci_low, ci_high);
`entries` its figures (rft/studies/contrasts.py, rft/studies/pretrain_loss.py), whose fits are drawn.
"""

from __future__ import annotations

import pandas as pd

from rft.reporting.plot_parts import canvas, draw_fit, errorbars, legend, png_bytes
from rft.studies.contrasts import DIVERSITY_ARMS, UNION_ARMS

PERCENT = "test accuracy, greedy (%)"


def _arm_bars(ax, points: pd.DataFrame, series_column: str, slot_column: str, series: list[str],
              slots: list[str]) -> None:
    """Error bars at the categorical positions `slots`, one series (offset a little) per `series` value."""
    width = 0.6 / max(1, len(series))
    for i, name in enumerate(series):
        cells = points[points[series_column] == name]
        position = {slot: j + (i - (len(series) - 1) / 2) * width for j, slot in enumerate(slots)}
        cells = cells.assign(pos=cells[slot_column].map(position))
        errorbars(ax, cells, "pos", name)
        for r in cells.itertuples():
            ax.annotate(f"{int(r.distinct_paths)}", (r.pos, 100 * r.ci_high), textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(range(len(slots)), slots)
    ax.set_ylabel(PERCENT)
    ax.grid(True, axis="y", alpha=0.3)


def diversity_plot(points: pd.DataFrame, entries: list[dict]) -> bytes:
    """Left: accuracy per selection (numbers: distinct paths); right: accuracy vs distinct paths."""
    fig, (by_arm, by_paths) = canvas(10.0, panels=2)
    models = sorted(points["model"].unique()) if not points.empty else []
    arms = [a for a in DIVERSITY_ARMS if a in set(points.get("arm", []))]
    _arm_bars(by_arm, points, "model", "arm", models, arms)
    by_arm.set_title("RFT accuracy per selection, same number of paths")
    for entry in entries:
        cells = points[points["model"] == entry["model"]]
        line = errorbars(by_paths, cells.sort_values("distinct_paths"), "distinct_paths", entry["model"])
        draw_fit(by_paths, entry["fits"].get("distinct_paths"), cells["distinct_paths"], line.get_color(), "paths")
    by_paths.set_xlabel("distinct reasoning paths among the added paths")
    by_paths.set_ylabel(PERCENT)
    by_paths.set_title("RFT accuracy vs distinct paths, same number of paths")
    by_paths.grid(True, alpha=0.3)
    legend(by_arm, points.empty)
    legend(by_paths, points.empty)
    return png_bytes(fig)


def union_gain_plot(points: pd.DataFrame, entries: list[dict]) -> bytes:
    """Own and union accuracy per model (numbers: distinct paths of each set), the gain in the labels."""
    fig, ax = canvas()
    models = sorted(points["model"].unique()) if not points.empty else []
    gains = {e["model"]: e["fits"]["gain"] for e in entries}
    slots = [_gain_label(m, gains.get(m)) for m in models]
    labelled = points.assign(slot=points["model"].map(dict(zip(models, slots)))) if models else points
    arms = [a for a in UNION_ARMS if a in set(points.get("arm", []))]
    _arm_bars(ax, labelled, "arm", "slot", arms, slots)
    ax.set_title("RFT on the model's own paths vs the union of all models'")
    legend(ax, points.empty)
    return png_bytes(fig)


def _gain_label(model: str, gain: dict | None) -> str:
    if gain is None:
        return model
    return (f"{model}\ngain {100 * gain['difference']:+.1f} "
            f"[{100 * gain['ci_low']:+.1f}, {100 * gain['ci_high']:+.1f}]")


def pretrain_loss_plot(entries: list[dict]) -> bytes:
    """Accuracy against held-out loss (left) and parameters (right, log axis), SFT and RFT."""
    fig, (by_loss, by_params) = canvas(10.0, panels=2)
    notes = {by_loss: [], by_params: []}
    for entry in entries:
        cells = pd.DataFrame({"model": entry["models"], "loss": entry["x"], "n_params": entry["n_params"],
                              "accuracy": entry["y"], "ci_low": entry["ci_low"], "ci_high": entry["ci_high"]})
        label = "SFT" if entry["stage"] == "sft" else "RFT (own paths)"
        for ax, column, fit_name in ((by_loss, "loss", "loss"), (by_params, "n_params", "log_params")):
            if cells.empty:
                continue
            line = errorbars(ax, cells, column, label)
            for r in cells.itertuples():
                ax.annotate(r.model, (getattr(r, column), 100 * r.accuracy), textcoords="offset points",
                            xytext=(4, -8), fontsize=7)
            draw_fit(ax, entry["fits"].get(fit_name), cells[column], line.get_color(), fit_name.removeprefix("log_"))
        for ax, fit_name in ((by_loss, "loss"), (by_params, "log_params")):
            if fit_name in entry.get("no_fit", {}):
                notes[ax].append(f"{label}: no fit, {entry['no_fit'][fit_name]}")
    by_loss.set_xlabel("base model's held-out loss (nats per token)")
    by_params.set_xlabel("base model's parameters")
    if any(len(set(e["n_params"])) > 1 for e in entries):
        by_params.set_xscale("log")
    empty = not any(e["models"] for e in entries)
    for ax, title in ((by_loss, "Accuracy vs pre-training loss"), (by_params, "Accuracy vs parameter count")):
        ax.set_ylabel(PERCENT)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        legend(ax, empty)
        if notes[ax]:
            ax.text(0.02, 0.02, "\n".join(notes[ax]), transform=ax.transAxes, fontsize=7, va="bottom", wrap=True)
    return png_bytes(fig)
