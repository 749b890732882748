"""A study's materialisation metadata: its cells as a table, the figure, the fits and the numbers."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from rft.plots import markdown_image
from rft.studies import RFT_VS_K
from rft.study_plots import rft_vs_k_plot, sft_vs_data_plot
from rft.study_summary import figures, study_fits

TABLE_COLUMNS = ["x", "seed", "distinct_paths", "n_sft_rows", "n_steps", "n_test", "accuracy", "ci_low", "ci_high"]


def study_plot(study: str, points: pd.DataFrame) -> bytes:
    fits = study_fits(study, points)
    if study == RFT_VS_K:
        return rft_vs_k_plot(points, fits)
    return sft_vs_data_plot(points, {model: f["n_sft_rows"] for model, f in fits.items()})


def study_metadata(study: str, points: pd.DataFrame, *, computed: int, reused: int, declared: dict) -> dict:
    """Plot (with 95% intervals and fitted curves), the cells and their fits, and what was recomputed."""
    ordered = points.sort_values(["model", "x", "seed"]) if not points.empty else points
    return {
        "cells_computed": computed,
        "cells_reused": reused,
        "declared": dg.MetadataValue.json(declared),
        "cells": dg.MetadataValue.md(
            ordered[TABLE_COLUMNS].to_markdown(index=False) if not ordered.empty else "no cells"
        ),
        f"{study}_plot": dg.MetadataValue.md(markdown_image(study_plot(study, points), study.replace("_", " "))),
        f"{study}_points": dg.MetadataValue.json(figures(study, points) if not points.empty else []),
    }
