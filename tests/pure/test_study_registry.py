"""The one registry of studies: every study the config knows, the fits each claims, its view."""

import json

import pandas as pd
import pytest

from rft.config.rft_config import RftConfig
from rft.config.study_config import StudiesConfig
from rft.evaluation.significance import wilson_interval
from rft.reporting.study_registry import STUDIES, UnknownStudy, find_study

PNG = b"\x89PNG\r\n\x1a\n"


def row(study, varies, *, x, arm=None, seed=0, correct=30, distinct=10, sft_rows=20):
    low, high = wilson_interval(correct, 100)
    return {"study": study, "model": "m", "varies": varies, "x": x, "arm": arm, "seed": seed,
            "distinct_paths": distinct, "n_sft_rows": sft_rows, "n_steps": 4, "n_test": 100, "n_correct": correct,
            "accuracy": correct / 100, "ci_low": low, "ci_high": high, "cell_id": f"{arm or x}-{seed}"}


POINTS = {
    "rft_vs_k": [row("rft_vs_k", "k", x=1.0, distinct=10), row("rft_vs_k", "k", x=4.0, correct=40, distinct=30)],
    "sft_vs_data": [row("sft_vs_data", "fraction", x=0.5, sft_rows=10),
                    row("sft_vs_data", "fraction", x=1.0, correct=35, sft_rows=20)],
    "rft_vs_diversity": [row("rft_vs_diversity", "selection", x=12, arm=arm, correct=c, distinct=d)
                         for arm, c, d in (("distinct", 35, 12), ("all_correct", 30, 8), ("duplicates", 25, 3))],
    "union_gain": [row("union_gain", "training_set", x=11, arm="own", distinct=11),
                   row("union_gain", "training_set", x=40, arm="union", correct=45, distinct=40)],
}


def test_every_study_of_the_config_is_in_the_registry_in_report_order():
    assert [s.name for s in STUDIES] == list(StudiesConfig.model_fields)
    assert find_study("union_gain").name == "union_gain"


def test_an_unknown_study_is_an_error_naming_the_known_ones():
    with pytest.raises(UnknownStudy, match="unknown study 'rft_vs_q': the studies are rft_vs_k, sft_vs_data, "
                                           "rft_vs_diversity, pretrain_loss, union_gain"):
        find_study("rft_vs_q")


@pytest.mark.parametrize("name", sorted(POINTS))
def test_a_per_model_study_draws_the_fits_it_claims_and_no_other(name):
    study = find_study(name)
    points = pd.DataFrame(POINTS[name])
    view = study.view(points)
    [entry] = view.entries
    assert (entry["study"], entry["varies"]) == (name, study.varies)
    assert tuple(entry["fits"]) == study.fits
    assert view.png.startswith(PNG) and len(view.table) == len(points)
    assert len(study.record_rows(entry)) == len(points)


def test_a_study_without_cells_has_no_figures_but_still_a_picture():
    view = find_study("rft_vs_k").view(pd.DataFrame(columns=list(POINTS["rft_vs_k"][0])))
    assert view.entries == [] and view.table.empty and view.png.startswith(PNG)


def test_the_study_across_models_sets_losses_against_accuracies():
    study = find_study("pretrain_loss")
    config = json.dumps({"fixed": {"model_spec": {"name": "m"}, "corpus": {"name": "test_gold"}}})
    losses = pd.DataFrame([{"study": "pretrain_loss", "model": "m", "x": 2.0, "n_params": 10**6, "n_tokens": 900,
                            "cell_id": "loss-m", "config": config, "computed_at": pd.Timestamp("2026-01-01")}])
    low, high = wilson_interval(30, 100)
    accuracies = pd.DataFrame([{"model": "m", "stage": stage, "n_test": 100, "n_correct": 30, "accuracy": 0.3,
                                "ci_low": low, "ci_high": high} for stage in ("sft", "rft")])
    view = study.view(losses, accuracies)
    assert study.across_models and [e["stage"] for e in view.entries] == ["sft", "rft"]
    assert all(tuple(e["fits"]) == study.fits for e in view.entries)
    assert list(view.table["model"]) == ["m"] and view.png.startswith(PNG)
    assert study.figures(losses, accuracies) == view.entries
    with pytest.raises(ValueError, match="accuracies"):
        study.view(losses)


def test_cells_come_from_the_config_unless_it_turns_the_study_off():
    on, off = RftConfig(sampling={"k": 4}), RftConfig(studies={"sft_vs_data": {"enabled": False}})
    cells = find_study("rft_vs_k").cells_for(on, "m", None)
    assert cells and {c.varies for c in cells} == {"k"}
    assert [c.varies for c in find_study("pretrain_loss").cells_for(on, "m", None)] == ["loss"]
    assert find_study("sft_vs_data").cells_for(off, "m", None) == []
    with pytest.raises(ValueError, match="union_gain_cells"):
        find_study("union_gain").cells_for(on, "m", None)


def test_rft_vs_k_fits_its_rft_cells_and_shows_their_controls_beside_them():
    from rft.studies.study_summary import rft_vs_k_figures

    def k_cell(k, correct, arm=None):
        return {"study": "rft_vs_k", "model": "m", "varies": "k", "x": float(k), "seed": 0, "arm": arm,
                "distinct_paths": 0 if arm else 10 * k, "n_sft_rows": 40, "n_steps": 5 + k, "n_test": 100,
                "n_correct": correct, "accuracy": correct / 100, "ci_low": 0.0, "ci_high": 1.0, "cell_id": f"{k}{arm}"}

    points = pd.DataFrame([k_cell(1, 20), k_cell(4, 30), k_cell(1, 15, "sft_matched"), k_cell(4, 16, "sft_matched")])
    [entry] = rft_vs_k_figures(points)
    assert entry["x"] == [1.0, 4.0] and entry["sft_matched"]["y"] == [0.15, 0.16]
    assert entry["sft_matched"]["n_steps"] == [6, 9]  # the steps of the RFT cell at the same k
    view = find_study("rft_vs_k").view(points)
    assert list(view.table["arm"]) == ["RFT", "SFT matched", "RFT", "SFT matched"]
    assert view.png.startswith(b"\x89PNG")
