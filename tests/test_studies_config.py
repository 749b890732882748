"""Study configs and cells: the values that vary, the seeds, and ids that change with any setting."""

import json

import pandas as pd
import pytest

from rft.config import ConfigError, RftConfig, load_config
from rft.studies import missing_cells, rft_vs_k_cells, sft_vs_data_cells
from rft.study_summary import latest_settings


def config(**studies) -> RftConfig:
    return RftConfig(sampling={"k": 8}, studies=studies)


def test_defaults_are_the_papers_grids():
    cfg = RftConfig()
    assert cfg.studies.rft_vs_k.ks == [1, 3, 6, 12, 25, 50, 100]
    assert cfg.studies.sft_vs_data.fractions == [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]


def test_k_values_are_capped_at_the_samples_drawn_and_crossed_with_seeds():
    cells = rft_vs_k_cells(config(rft_vs_k={"ks": [1, 3, 6, 12, 25], "seeds": [1, 0]}), "m")
    assert [(c.x, c.seed) for c in cells] == [(1, 0), (1, 1), (3, 0), (3, 1), (6, 0), (6, 1), (8, 0), (8, 1)]
    assert cells[0].label == "k=1 seed=0"


def test_without_seeds_a_cell_trains_with_the_stages_seed():
    cfg = RftConfig(sft_training={"seed": 7}, studies={"sft_vs_data": {"fractions": [0.5, 1.0]}})
    assert [(c.x, c.seed, c.label) for c in sft_vs_data_cells(cfg, "m")] == [
        (0.5, 7, "fraction=0.5 seed=7"), (1.0, 7, "fraction=1 seed=7")]


def test_cell_ids_are_stable_and_change_with_every_setting():
    base = rft_vs_k_cells(config(rft_vs_k={"ks": [2]}), "m")[0]
    assert base.cell_id == rft_vs_k_cells(config(rft_vs_k={"ks": [2]}), "m")[0].cell_id
    changed = [
        rft_vs_k_cells(config(rft_vs_k={"ks": [3]}), "m")[0],
        rft_vs_k_cells(config(rft_vs_k={"ks": [2]}), "other-model")[0],
        rft_vs_k_cells(config(rft_vs_k={"ks": [2], "seeds": [5]}), "m")[0],
        rft_vs_k_cells(RftConfig(sampling={"k": 8, "temperature": 1.0}, studies={"rft_vs_k": {"ks": [2]}}), "m")[0],
        rft_vs_k_cells(RftConfig(sampling={"k": 8}, rft_training={"epochs": 1}, studies={"rft_vs_k": {"ks": [2]}}), "m")[0],
        rft_vs_k_cells(RftConfig(sampling={"k": 8}, task={"n_test": 9}, studies={"rft_vs_k": {"ks": [2]}}), "m")[0],
        rft_vs_k_cells(config(rft_vs_k={"ks": [2]}), "m", {"source": "hub", "path": "org/other"})[0],
    ]
    assert len({base.cell_id, *(c.cell_id for c in changed)}) == 1 + len(changed)
    # Settings of the other stage or another study do not touch a cell.
    same = rft_vs_k_cells(RftConfig(sampling={"k": 8}, sft_training={"epochs": 1},
                                    studies={"rft_vs_k": {"ks": [2]}, "sft_vs_data": {"subset_seed": 3}}), "m")[0]
    assert same.cell_id == base.cell_id


def test_the_cells_settings_say_what_varies_and_what_is_fixed():
    cell = sft_vs_data_cells(config(sft_vs_data={"fractions": [0.25], "subset_seed": 3}), "m")[0]
    settings = cell.settings
    assert (settings["study"], settings["varies"], settings["x"]) == ("sft_vs_data", "fraction", 0.25)
    assert settings["fixed"]["subset_seed"] == 3
    assert settings["fixed"]["training"]["epochs"] == 3 and "seed" not in settings["fixed"]["training"]


def test_only_cells_without_a_row_are_missing():
    cells = sft_vs_data_cells(config(sft_vs_data={"fractions": [0.5, 1.0]}), "m")
    assert missing_cells(cells, {cells[0].cell_id, "stale-id"}) == [cells[1]]


@pytest.mark.parametrize("text, fragment", [
    ("studies: {rft_vs_k: {ks: [0, 3]}}", "k must be > 0"),
    ("studies: {rft_vs_k: {ks: []}}", "ks"),
    ("studies: {sft_vs_data: {fractions: [0.5, 1.5]}}", r"in \(0, 1\]"),
    ("studies: {sft_vs_data: {fraction: [0.5]}}", "fraction"),
    ("studies: {rft_vs_kk: {}}", "rft_vs_kk"),
])
def test_impossible_study_settings_fail_before_any_work(tmp_path, text, fragment):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_plots_and_records_take_only_the_newest_settings_of_each_study():
    def row(model, x, epochs, at):
        config = {"study": "sft_vs_data", "model": model, "x": x, "seed": 0, "fixed": {"epochs": epochs}}
        return {"study": "sft_vs_data", "model": model, "x": x, "config": json.dumps(config),
                "computed_at": pd.Timestamp(at)}

    rows = pd.DataFrame([
        row("a", 0.5, 3, "2026-01-01"), row("a", 1.0, 3, "2026-01-02"),   # the old settings
        row("a", 0.5, 1, "2026-02-01"), row("a", 1.0, 1, "2026-02-02"),   # a changed config
        row("b", 1.0, 3, "2026-01-03"),                                   # another model keeps its own
    ])
    kept = latest_settings(rows)
    assert sorted(zip(kept["model"], kept["x"], kept["computed_at"].dt.month)) == [
        ("a", 0.5, 2), ("a", 1.0, 2), ("b", 1.0, 1)]
