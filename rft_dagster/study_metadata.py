"""A study's views: its cells as a table, the figure, the figures' numbers; and its Dagster metadata.

    view = study_view("rft_vs_k", points)                  # a per-model study's cells
    view = pretrain_view(loss_rows, accuracies)            # the cross-model loss study
    view.table, view.png, view.entries, view.left_out

The same views fill the materialisations (Dagit), `rft report` and `rft studies show`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from rft.reporting.comparison_plots import diversity_plot, pretrain_loss_plot, union_gain_plot
from rft.reporting.run_plots import markdown_image
from rft.studies.pretrain_loss import comparable_losses, pretrain_figures, pretrain_points
from rft.reporting.result_tables import with_interval
from rft.studies.cells import RFT_VS_DIVERSITY, RFT_VS_K, UNION_GAIN
from rft.reporting.study_plots import rft_vs_k_plot, sft_vs_data_plot
from rft.studies.study_summary import figures, study_fits


@dataclass
class StudyView:
    entries: list[dict]  # figures: the JSON of rft studies show --record
    png: bytes
    table: pd.DataFrame  # one row per cell, for people
    left_out: dict[str, str] = field(default_factory=dict)  # model -> why it is not in the study


def _accuracy(points: pd.DataFrame) -> list[str]:
    return [with_interval(r.accuracy, r.ci_low, r.ci_high) for r in points.itertuples()]


def cells_table(study: str, points: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: what varied, what it trained on, the accuracy with its 95% interval."""
    if points.empty:
        return pd.DataFrame()
    if study in (RFT_VS_DIVERSITY, UNION_GAIN):
        order = {"distinct": 0, "all_correct": 1, "duplicates": 2, "own": 0, "union": 1}
        points = points.assign(_o=points["arm"].map(order)).sort_values(["model", "_o", "seed"])
        paths = "paths added" if study == RFT_VS_DIVERSITY else "set's distinct paths"
        return pd.DataFrame({
            "model": points["model"], points["varies"].iloc[0]: points["arm"], "seed": points["seed"],
            paths: points["x"].astype(int), "distinct paths": points["distinct_paths"],
            "steps": points["n_steps"], "n_test": points["n_test"], "accuracy % [95% CI]": _accuracy(points),
        })
    points = points.sort_values(["model", "x", "seed"])
    return pd.DataFrame({
        "model": points["model"], points["varies"].iloc[0]: points["x"], "seed": points["seed"],
        "distinct paths": points["distinct_paths"], "SFT rows": points["n_sft_rows"],
        "steps": points["n_steps"], "n_test": points["n_test"], "accuracy % [95% CI]": _accuracy(points),
    })


def study_view(study: str, points: pd.DataFrame) -> StudyView:
    """A per-model study's cells (rft.study_results rows of its newest settings) as table, figure, numbers."""
    entries = figures(study, points) if not points.empty else []
    if study == RFT_VS_K:
        png = rft_vs_k_plot(points, study_fits(study, points))
    elif study == RFT_VS_DIVERSITY:
        png = diversity_plot(points, entries)
    elif study == UNION_GAIN:
        png = union_gain_plot(points, entries)
    else:
        png = sft_vs_data_plot(points, {m: f["n_sft_rows"] for m, f in study_fits(study, points).items()})
    return StudyView(entries, png, cells_table(study, points))


def pretrain_view(loss_rows: pd.DataFrame, accuracies: pd.DataFrame) -> StudyView:
    """Every model's loss cell next to its SFT and RFT accuracy, fitted across models."""
    losses, left_out = comparable_losses(loss_rows)
    points = pretrain_points(losses, accuracies) if not losses.empty else pd.DataFrame(
        columns=["model", "loss", "n_params", "n_tokens", "cell_id", "stage"])
    entries = pretrain_figures(points, losses)
    table = pd.DataFrame({
        "model": losses["model"], "held-out loss (nats/token)": losses["x"].round(4),
        "parameters": losses["n_params"], "tokens scored": losses["n_tokens"],
        **{f"{stage.upper()} accuracy % [95% CI]": [_stage_accuracy(points, m, stage) for m in losses["model"]]
           for stage in ("sft", "rft")},
    }) if not losses.empty else pd.DataFrame()
    return StudyView(entries, pretrain_loss_plot(entries), table, left_out)


def _stage_accuracy(points: pd.DataFrame, model: str, stage: str) -> str:
    rows = points[(points["model"] == model) & (points["stage"] == stage)]
    return _accuracy(rows)[0] if not rows.empty else "not evaluated"


def study_metadata(study: str, view: StudyView, *, computed: int, reused: int, declared: dict) -> dict:
    """Plot (with 95% intervals and fitted curves), the cells and their fits, and what was recomputed."""
    return {
        "cells_computed": computed,
        "cells_reused": reused,
        "declared": dg.MetadataValue.json(declared),
        "cells": dg.MetadataValue.md(view.table.to_markdown(index=False) if not view.table.empty else "no cells"),
        f"{study}_plot": dg.MetadataValue.md(markdown_image(view.png, study.replace("_", " "))),
        f"{study}_points": dg.MetadataValue.json(view.entries),
        **({"left_out": dg.MetadataValue.json(view.left_out)} if view.left_out else {}),
    }

