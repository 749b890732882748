"""Study configs and cells: the values that vary, the seeds, and ids that change with any setting."""

import json

import pandas as pd
import pytest

from rft.config.rft_config import ConfigError, RftConfig, load_config
from rft.studies.cells import (
    is_control, missing_cells, pretrain_loss_cell, rft_vs_diversity_cells, rft_vs_k_cells, sft_vs_data_cells, union_gain_cells,
)
from rft.studies.study_summary import latest_settings, settings_key


def config(**studies) -> RftConfig:
    return RftConfig(sampling={"k": 8}, studies=studies)


def test_defaults_are_the_papers_grids():
    cfg = RftConfig()
    assert cfg.studies.rft_vs_k.ks == [1, 3, 6, 12, 25, 50, 100]
    assert cfg.studies.sft_vs_data.fractions == [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
    assert cfg.studies.rft_vs_diversity.selections == ["distinct", "all_correct", "duplicates"]
    assert (cfg.studies.pretrain_loss.corpus, cfg.studies.pretrain_loss.max_length) == ("test_gold", 512)
    assert cfg.studies.union_gain.enabled


def test_k_values_are_capped_at_the_samples_drawn_and_crossed_with_seeds():
    cells = rft_vs_k_cells(config(rft_vs_k={"ks": [1, 3, 6, 12, 25], "seeds": [1, 0]}), "m")
    rft = [c for c in cells if not is_control(c)]
    assert [(c.x, c.seed) for c in rft] == [(1, 0), (1, 1), (3, 0), (3, 1), (6, 0), (6, 1), (8, 0), (8, 1)]
    assert cells[0].label == "k=1 seed=0"


def test_every_rft_cell_has_a_step_matched_sft_control_after_it():
    cells = rft_vs_k_cells(config(rft_vs_k={"ks": [1, 3], "seeds": [0, 1]}), "m")
    rft, controls = cells[:4], cells[4:]  # RFT cells first: a control reads the steps its RFT cell took
    assert [(c.x, c.seed, c.arm) for c in controls] == [(c.x, c.seed, "sft_matched") for c in rft]
    assert [c.matches for c in controls] == [c.cell_id for c in rft]
    assert all(c.fixed == r.fixed for c, r in zip(controls, rft))  # the marts group a study run by `fixed`
    assert len({c.cell_id for c in cells}) == 8
    off = RftConfig(sampling={"k": 8}, matched_sft_controls=False, studies={"rft_vs_k": {"ks": [1, 3]}})
    assert not any(is_control(c) for c in rft_vs_k_cells(off, "m"))


def test_a_diversity_control_per_seed_takes_the_steps_every_selection_takes():
    cells = rft_vs_diversity_cells(config(rft_vs_diversity={"seeds": [0, 1]}), "m")
    controls = [c for c in cells if is_control(c)]
    assert [(c.seed, c.matches) for c in controls] == [(0, cells[0].cell_id), (1, cells[1].cell_id)]


def test_controls_share_the_settings_key_of_their_rft_cells():
    cells = rft_vs_k_cells(config(rft_vs_k={"ks": [1]}), "m")
    assert len({settings_key(c.settings_json) for c in cells}) == 1


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


def test_diversity_cells_are_one_per_selection_and_seed_sharing_every_other_setting():
    cells = [c for c in rft_vs_diversity_cells(config(rft_vs_diversity={"seeds": [0, 1]}), "m") if not is_control(c)]
    assert [(c.arm, c.seed) for c in cells] == [
        ("distinct", 0), ("distinct", 1), ("all_correct", 0), ("all_correct", 1), ("duplicates", 0), ("duplicates", 1)]
    assert cells[0].label == "selection=distinct seed=0"
    assert len({c.cell_id for c in cells}) == 6 and len({json.dumps(c.fixed, sort_keys=True) for c in cells}) == 1
    fixed = cells[0].settings["fixed"]
    assert (fixed["n_paths"], fixed["duplicate_share"], fixed["selection_seed"]) == (None, 0.25, 0)
    changed = [rft_vs_diversity_cells(config(rft_vs_diversity=dict(seeds=[0], **change)), "m")[0].cell_id
               for change in ({"n_paths": 5}, {"duplicate_share": 0.5}, {"selection_seed": 1})]
    assert len({cells[0].cell_id, *changed}) == 4


def test_numeric_cells_carry_no_arm_so_their_ids_did_not_move():
    cell = rft_vs_k_cells(config(rft_vs_k={"ks": [2]}), "m")[0]
    assert "arm" not in cell.settings and cell.arm is None


def test_the_loss_cell_changes_with_the_model_the_corpus_and_the_task():
    base = pretrain_loss_cell(RftConfig(), "m", {"source": "tiny", "tiny": "tiny-llama-a"})
    assert (base.varies, base.x, base.seed, base.label) == ("loss", None, None, "loss of m")
    assert base.settings["fixed"]["corpus"]["name"] == "test_gold"
    others = [
        pretrain_loss_cell(RftConfig(), "m", {"source": "tiny", "tiny": "tiny-llama-b"}),
        pretrain_loss_cell(RftConfig(studies={"pretrain_loss": {"max_length": 256}}), "m",
                           {"source": "tiny", "tiny": "tiny-llama-a"}),
        pretrain_loss_cell(RftConfig(task={"n_test": 9}), "m", {"source": "tiny", "tiny": "tiny-llama-a"}),
    ]
    assert len({base.cell_id, *(c.cell_id for c in others)}) == 4
    # The batch size changes how the loss is computed, not what it is.
    same = pretrain_loss_cell(RftConfig(studies={"pretrain_loss": {"batch_size": 2}}), "m",
                              {"source": "tiny", "tiny": "tiny-llama-a"})
    assert same.cell_id == base.cell_id


def test_union_gain_cells_are_new_when_a_checkpoint_or_its_evaluation_is():
    def evaluations(union_run="run-2"):
        return {"own": {"checkpoint": "ckpt/own", "eval_run_id": "run-1", "train_config": {"seed": 3}},
                "union": {"checkpoint": "ckpt/union", "eval_run_id": union_run, "train_config": {"seed": 3}}}

    own, union = union_gain_cells("m", None, evaluations())
    assert (own.arm, union.arm, own.seed, own.varies) == ("own", "union", 3, "training_set")
    assert [c.cell_id for c in union_gain_cells("m", None, evaluations())] == [own.cell_id, union.cell_id]
    again = union_gain_cells("m", None, evaluations(union_run="run-9"))
    assert {c.cell_id for c in again}.isdisjoint({own.cell_id, union.cell_id})


def test_the_arms_of_one_study_run_share_their_settings_key():
    cells = rft_vs_diversity_cells(config(), "m")
    assert len({settings_key(c.settings_json) for c in cells}) == 1


@pytest.mark.parametrize("text, fragment", [
    ("studies: {rft_vs_diversity: {selections: [distinct, distinct]}}", "each selection once"),
    ("studies: {rft_vs_diversity: {selections: [dedup]}}", "selections"),
    ("studies: {rft_vs_diversity: {n_paths: 0}}", "n_paths"),
    ("studies: {rft_vs_diversity: {duplicate_share: 0}}", "duplicate_share"),
    ("studies: {pretrain_loss: {corpus: wikipedia}}", "corpus"),
    ("studies: {pretrain_loss: {max_length: 1}}", "max_length"),
    ("studies: {union_gain: {metric: maj1@4}}", "metric"),
])
def test_impossible_settings_of_the_new_studies_fail_before_any_work(tmp_path, text, fragment):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)
