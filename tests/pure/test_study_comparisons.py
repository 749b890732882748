"""The categorical and cross-model studies as figures, from tiny frames: differences, fits, reasons."""

import json

import pandas as pd
import pytest

from rft.reporting.comparison_plots import diversity_plot, pretrain_loss_plot, union_gain_plot
from rft.evaluation.significance import wilson_interval
from rft.studies.pretrain_loss import comparable_losses, pretrain_figures, pretrain_points
from rft.studies.contrasts import difference, diversity_figures, union_gain_figures
from rft_dagster.study_commands import records_table

PNG = b"\x89PNG\r\n\x1a\n"


def cell(study, arm, correct, *, model="m", seed=0, paths=12, distinct=12, n=100):
    low, high = wilson_interval(correct, n)
    return {"study": study, "model": model, "arm": arm, "varies": "selection" if study == "rft_vs_diversity"
            else "training_set", "x": paths, "seed": seed, "distinct_paths": distinct, "n_test": n,
            "n_correct": correct, "accuracy": correct / n, "ci_low": low, "ci_high": high, "n_steps": 3,
            "cell_id": f"{arm}-{seed}"}


def test_a_difference_has_newcombes_interval_from_the_two_wilson_intervals():
    # The accuracy_leaderboard mart's example: 0.75 [0.5625, 0.84375] minus 0.5 [0.375, 0.75].
    d = difference({"accuracy": 0.75, "ci_low": 0.5625, "ci_high": 0.84375},
                   {"accuracy": 0.5, "ci_low": 0.375, "ci_high": 0.75})
    assert d == {"difference": 0.25, "ci_low": -0.0625, "ci_high": 0.40625}


def test_diversity_compares_distinct_paths_with_raw_and_duplicated_ones_at_one_size():
    points = pd.DataFrame([
        cell("rft_vs_diversity", "duplicates", 20, distinct=3),
        cell("rft_vs_diversity", "all_correct", 25, distinct=8),
        cell("rft_vs_diversity", "distinct", 30, distinct=12),
        cell("rft_vs_diversity", "distinct", 40, seed=1, distinct=12),  # a second seed is pooled
    ])
    [entry] = diversity_figures(points)
    assert entry["x"] == ["distinct", "distinct", "all_correct", "duplicates"] and entry["seed"] == [0, 1, 0, 0]
    assert entry["paths"] == [12] * 4 and entry["distinct_paths"] == [12, 12, 8, 3]
    pooled = {"accuracy": 0.35, **dict(zip(("ci_low", "ci_high"), wilson_interval(70, 200)))}
    assert entry["fits"]["distinct_minus_all_correct"] == difference(pooled, points.iloc[1].to_dict())
    assert entry["fits"]["distinct_minus_duplicates"]["difference"] == pytest.approx(0.15)
    line = entry["fits"]["distinct_paths"]
    assert line["b"] > 0 and line["pearson_r"] > 0.8 and not line["log_x"] and line["n"] == 4  # every cell
    assert diversity_plot(points, [entry]).startswith(PNG)


def test_a_missing_arm_has_no_difference():
    [entry] = diversity_figures(pd.DataFrame([cell("rft_vs_diversity", "distinct", 30)]))
    assert entry["fits"] == {"distinct_minus_all_correct": None, "distinct_minus_duplicates": None,
                             "distinct_minus_sft_matched": None, "distinct_paths": None}


def test_union_gain_is_union_minus_own_with_both_sets_sizes():
    points = pd.DataFrame([cell("union_gain", "union", 45, paths=129, distinct=129),
                           cell("union_gain", "own", 30, paths=11, distinct=11),
                           cell("union_gain", "own", 20, model="b", paths=5, distinct=5)])
    entries = union_gain_figures(points)
    assert [(e["model"], e["x"], e["paths"]) for e in entries] == [("b", ["own"], [5]),
                                                                     ("m", ["own", "union"], [11, 129])]
    assert entries[0]["fits"] == {"gain": None}  # b lacks its union evaluation
    gain = entries[1]["fits"]["gain"]
    assert gain["difference"] == pytest.approx(0.15) and gain["ci_low"] < 0.15 < gain["ci_high"]
    assert union_gain_plot(points, entries).startswith(PNG)


def loss_row(model, loss, n_params, at, corpus="test_gold"):
    config = {"study": "pretrain_loss", "model": model, "fixed": {"model_spec": {"name": model},
                                                                  "corpus": {"name": corpus}}}
    return {"study": "pretrain_loss", "model": model, "x": loss, "n_params": n_params, "n_tokens": 1000,
            "cell_id": f"loss-{model}-{at}", "config": json.dumps(config), "computed_at": pd.Timestamp(at)}


def accuracy(model, stage, correct, n=100):
    low, high = wilson_interval(correct, n)
    return {"model": model, "stage": stage, "n_test": n, "n_correct": correct, "accuracy": correct / n,
            "ci_low": low, "ci_high": high}


def test_one_model_gets_its_point_and_no_fit_with_the_reason():
    losses, left_out = comparable_losses(pd.DataFrame([loss_row("a", 2.0, 10**6, "2026-01-01")]))
    points = pretrain_points(losses, pd.DataFrame([accuracy("a", "sft", 20), accuracy("a", "rft", 25)]))
    sft, rft = pretrain_figures(points, losses)
    assert (sft["stage"], sft["models"], sft["x"], sft["y"]) == ("sft", ["a"], [2.0], [0.2])
    assert sft["fits"] == {"loss": None, "log_params": None}
    assert sft["no_fit"] == {"loss": "one model (a): a line needs two or more",
                             "log_params": "one model (a): a line needs two or more"}
    assert rft["y"] == [0.25] and left_out == {}
    table = records_table({"entries": [sft, rft], "table_version": 3})
    assert "no fit: one model (a): a line needs two or more" in table
    assert pretrain_loss_plot([sft, rft]).startswith(PNG)


def test_several_models_are_fitted_against_loss_and_log_parameters_with_pearsons_r():
    rows = pd.DataFrame([loss_row("a", 3.0, 10**6, "2026-01-01"), loss_row("b", 2.0, 10**7, "2026-01-02"),
                         loss_row("c", 1.0, 10**8, "2026-01-03"), loss_row("d", 1.5, 10**9, "2026-01-04")])
    accuracies = pd.DataFrame([accuracy("a", "sft", 10), accuracy("b", "sft", 30), accuracy("c", "sft", 50),
                               accuracy("a", "rft", 15)])  # d is not evaluated yet
    losses, _ = comparable_losses(rows)
    sft, rft = pretrain_figures(pretrain_points(losses, accuracies), losses)
    assert sft["models"] == ["a", "b", "c"] and sft["without_accuracy"] == ["d"]
    by_loss = sft["fits"]["loss"]  # accuracy = 0.7 - 0.2 * loss, exactly
    assert (by_loss["a"], by_loss["b"], by_loss["pearson_r"]) == (
        pytest.approx(0.7), pytest.approx(-0.2), pytest.approx(-1.0))
    by_params = sft["fits"]["log_params"]  # 0.2 per factor of 10 in parameters
    assert by_params["log_x"] and by_params["b"] == pytest.approx(0.2 / 2.302585, rel=1e-5)
    assert by_params["pearson_r"] == pytest.approx(1.0)
    assert rft["fits"]["loss"] is None and "one model (a)" in rft["no_fit"]["loss"]
    printed = records_table({"entries": [sft, rft], "table_version": 3})
    assert "0.7000 - 0.2000 loss, R^2 1.000, r -1.000" in printed
    assert "ln parameters" in printed


def test_only_losses_measured_alike_are_compared():
    rows = pd.DataFrame([
        loss_row("a", 3.0, 10**6, "2026-01-01"), loss_row("a", 2.9, 10**6, "2026-02-01"),  # a's newest counts
        loss_row("b", 2.0, 10**7, "2026-01-02", corpus="other"),
    ])
    losses, left_out = comparable_losses(rows)
    assert list(zip(losses["model"], losses["x"])) == [("a", 2.9)]
    assert list(left_out) == ["b"] and "another corpus" in left_out["b"]


def test_no_evaluation_yet_says_so():
    losses, _ = comparable_losses(pd.DataFrame([loss_row("a", 2.0, 10**6, "2026-01-01")]))
    empty = pd.DataFrame(columns=["model", "stage", "n_test", "n_correct", "accuracy", "ci_low", "ci_high"])
    sft, _ = pretrain_figures(pretrain_points(losses, empty), losses)
    assert sft["models"] == [] and sft["without_accuracy"] == ["a"]
    assert sft["no_fit"]["loss"] == "no model has a SFT evaluation (rft.eval_results) yet"
    assert pretrain_loss_plot([sft]).startswith(PNG)


def test_categorical_studies_print_their_arms_and_differences():
    points = pd.DataFrame([cell("union_gain", "own", 30, paths=11, distinct=11),
                           cell("union_gain", "union", 45, paths=129, distinct=129)])
    printed = records_table({"entries": union_gain_figures(points), "table_version": 1})
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in printed.splitlines() if line.startswith("| union")]
    assert rows[:2] == [["union_gain", "m", "own", "0", "11", "11", "100", "30.0 [21.9-39.6]"],
                        ["union_gain", "m", "union", "0", "129", "129", "100", "45.0 [35.6-54.8]"]]
    assert rows[2][:3] == ["union_gain", "m", "gain"] and rows[2][3].startswith("+15.0 points [")


def test_distinct_paths_are_compared_with_the_step_matched_sft_control_which_stays_out_of_the_line():
    cells = [cell("rft_vs_diversity", "distinct", 40, distinct=12), cell("rft_vs_diversity", "all_correct", 35, distinct=8),
             cell("rft_vs_diversity", "sft_matched", 30, paths=0, distinct=0)]
    [entry] = diversity_figures(pd.DataFrame(cells))
    assert entry["x"] == ["distinct", "all_correct", "sft_matched"]
    assert entry["fits"]["distinct_minus_sft_matched"] == difference(cells[0], cells[2])
    assert entry["fits"]["distinct_paths"]["b"] == pytest.approx(5 / 4 / 100)  # through the two RFT cells only
