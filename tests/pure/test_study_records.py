"""A study's cells as figures (JSON entries with fits) and as the table `rft studies show` prints."""

import math

import pandas as pd
import pytest

from rft.reporting.study_registry import find_study
from rft_dagster.study_commands import records_table


def cells(study, varies, xs, accuracies, distinct=None, sft_rows=None):
    return pd.DataFrame([{
        "study": study, "model": "m", "varies": varies, "x": x, "seed": 0, "cell_id": f"c{i}",
        "distinct_paths": (distinct or [0] * len(xs))[i], "n_sft_rows": (sft_rows or [10] * len(xs))[i],
        "n_test": 100, "n_correct": round(100 * acc), "accuracy": acc, "ci_low": acc - 0.05, "ci_high": acc + 0.05,
    } for i, (x, acc) in enumerate(zip(xs, accuracies))])


def test_sft_vs_data_figures_carry_the_log_linear_law():
    sft_rows = [1, 10, 100]
    points = cells("sft_vs_data", "fraction", [0.01, 0.1, 1.0], [0.2 + 0.1 * math.log(n) for n in sft_rows],
                   sft_rows=sft_rows)
    [entry] = find_study("sft_vs_data").figures(points)
    assert (entry["x"], entry["n_sft_rows"], entry["n"]) == ([0.01, 0.1, 1.0], sft_rows, [100] * 3)
    law = entry["fits"]["n_sft_rows"]
    assert (law["a"], law["b"], law["r2"]) == (pytest.approx(0.2), pytest.approx(0.1), pytest.approx(1.0))


def test_rft_vs_k_figures_fit_k_and_distinct_paths_and_print_as_a_table():
    points = cells("rft_vs_k", "k", [1, 4], [0.3, 0.5], distinct=[10, 30])
    [entry] = find_study("rft_vs_k").figures(points)
    assert entry["fits"]["distinct_paths"]["b"] == pytest.approx(0.01)  # 0.2 accuracy over 20 paths
    printed = records_table({"entries": [entry], "table_version": 7})
    lines = [[c.strip() for c in line.split("|")[1:-1]] for line in printed.splitlines() if line.startswith("| rft")]
    assert lines == [
        ["rft_vs_k", "m", "1", "0", "10", "10", "100", "30.0 [25.0-35.0]"],
        ["rft_vs_k", "m", "4", "0", "30", "10", "100", "50.0 [45.0-55.0]"],
        ["rft_vs_k", "m", "k", "0.3000 + 0.1443 ln k, R^2 1.000"],  # 0.2 / ln 4
        ["rft_vs_k", "m", "distinct_paths", "0.2000 + 0.0100 distinct_paths, R^2 1.000"],
    ]
    assert "rft.study_results v7" in printed


def test_a_single_cell_has_no_law_yet():
    [entry] = find_study("sft_vs_data").figures(cells("sft_vs_data", "fraction", [1.0], [0.4]))
    assert entry["fits"] == {"n_sft_rows": None}
    assert "fewer than 2 distinct x" in records_table({"entries": [entry], "table_version": 0})


def test_a_falling_law_prints_its_sign_once():
    points = cells("rft_vs_k", "k", [1, 4], [0.5, 0.3], distinct=[10, 30])
    [entry] = find_study("rft_vs_k").figures(points)
    printed = records_table({"entries": [entry], "table_version": 1})
    assert "0.5000 - 0.1443 ln k" in printed
    assert "+ -" not in printed
