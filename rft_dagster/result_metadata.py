"""Plots and their numbers as Dagster metadata, so an asset's page in Dagit shows them.

Dagit renders a markdown metadata value with its sanitizer allowing `data:` image sources
(dagster-webserver 1.13's MarkdownWithPlugins), so a PNG embedded as a data URI shows inline
with the materialisation; the numbers go alongside as JSON for tooling and comparisons.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd
from pyspark.sql import DataFrame

from rft.evaluation.pass_at_k import curve_by_model, pass_at_k_curve
from rft.reporting.arm_tables import arm_table, comparison_table
from rft.reporting.round_plots import rounds_plot
from rft.reporting.run_plots import accuracy_vs_paths_plot, markdown_image, pass_at_k_plot
from spark_jobs.lakehouse import to_pandas
from spark_jobs.run_results import accuracy_by_training_paths, first_correct_samples


def pass_at_k_metadata(verified: DataFrame) -> dict:
    """pass@k per model (k = 1, 2, 4, ... up to the samples drawn), as a plot and as numbers."""
    curve = pass_at_k_curve(to_pandas(first_correct_samples(verified)))
    return {
        "pass_at_k_plot": dg.MetadataValue.md(markdown_image(pass_at_k_plot(curve), "pass@k per model")),
        "pass_at_k": dg.MetadataValue.json(curve_by_model(curve)),
    }


def accuracy_metadata(eval_results: DataFrame, models: DataFrame) -> dict:
    """Greedy accuracy of every evaluated checkpoint against the distinct paths it was trained on,
    every seed's with its steps and tokens, and each RFT arm against its step-matched SFT control."""
    points = to_pandas(accuracy_by_training_paths(eval_results, models))
    numbers = [
        {"model": r.model, "stage": r.stage, "training_set": r.training_set, "seed": _int(r.seed),
         "distinct_paths": int(r.distinct_paths), "n_steps": _int(r.n_steps), "n_tokens": _int(r.n_tokens),
         "accuracy": round(float(r.accuracy), 4), "ci_low": round(float(r.ci_low), 4),
         "ci_high": round(float(r.ci_high), 4)}
        for r in points.itertuples()
    ]
    png = accuracy_vs_paths_plot(points)
    comparisons = comparison_table(points)
    return {
        "accuracy_vs_distinct_paths_plot": dg.MetadataValue.md(markdown_image(png, "accuracy vs distinct paths")),
        "accuracy_vs_distinct_paths": dg.MetadataValue.json(numbers),
        "accuracy_per_arm": dg.MetadataValue.md(arm_table(points).to_markdown(index=False)),
        "rft_vs_controls": dg.MetadataValue.md(
            comparisons.to_markdown(index=False) if not comparisons.empty else "(no paired comparison yet)"
        ),
    }


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def rounds_metadata(lake, model: str) -> dict:
    """One model's rounds: the accuracy-per-round plot and its numbers, and the paired tests of each
    later round against the previous round and its step-matched control."""
    from rft_dagster.rounds_pipeline import round_comparison_table, rounds_table

    table = rounds_table(lake, [model])
    comparisons = round_comparison_table(lake, [model])
    columns = ["round", "sampled", "correct", "solved", "share_solved", "distinct", "new_distinct", "seeds",
               "rft_accuracy", "matched_accuracy", "gain_vs_matched", "gain_vs_previous_round"]
    return {
        "rounds_plot": dg.MetadataValue.md(markdown_image(rounds_plot(table, model), f"{model}: rounds")),
        "rounds": dg.MetadataValue.md(table[columns].to_markdown(index=False)),
        "round_tests": dg.MetadataValue.md(
            comparisons.to_markdown(index=False) if not comparisons.empty else "(no paired comparison yet)"),
    }
