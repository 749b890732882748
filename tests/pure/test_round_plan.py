"""Rounds: what each round samples from, trains on and is keyed by."""

import hashlib

import pytest

from rft.config.rounds_config import RoundsConfig
from rft.rounds.round_plan import path_key, round_base_seed, rounds_in_training_set, sampling_policy


def test_round_zero_samples_from_sft_and_later_rounds_from_the_previous_rft_model():
    assert sampling_policy(0) == ("sft", None)
    assert sampling_policy(1) == ("rft", 0)
    assert sampling_policy(3) == ("rft", 2)


def test_cumulative_sets_hold_every_round_so_far_and_last_only_the_newest():
    assert rounds_in_training_set(0, "cumulative") == [0]
    assert rounds_in_training_set(2, "cumulative") == [0, 1, 2]
    assert rounds_in_training_set(2, "last") == [2]


def test_round_zero_keeps_the_one_round_path_ids_and_seeds():
    # the id every table written before rounds holds: sha1 of model|question_id|sample_idx
    assert hashlib.sha1(path_key("m", "train-00001", 3).encode()).hexdigest() == \
        hashlib.sha1(b"m|train-00001|3").hexdigest()
    assert path_key("m", "train-00001", 3, 0) == "m|train-00001|3"
    assert round_base_seed(7, 0) == 7


def test_a_later_round_gives_the_same_sample_a_new_id_and_a_new_seed():
    keys = {path_key("m", "q", 0, r) for r in range(4)}
    assert len(keys) == 4 and path_key("m", "q", 0, 2) == "m|q|0|r2"
    assert len({round_base_seed(0, r) for r in range(4)}) == 4


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True, None])
def test_a_round_is_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="a round is an integer >= 0"):
        sampling_policy(bad)


def test_the_rounds_config_defaults_to_the_papers_single_round():
    config = RoundsConfig()
    assert config.n_rounds == 1 and config.paths == "cumulative"
    with pytest.raises(ValueError):
        RoundsConfig(n_rounds=0)
    with pytest.raises(ValueError):
        RoundsConfig(paths="all")


def test_pool_names_carry_their_round_after_round_zero():
    from rft.filter.pools import own_pool, pool_model, pool_round, union_pool

    assert own_pool("tiny-a") == "own:tiny-a" and union_pool() == "union"  # the one-round names
    assert own_pool("tiny-a", 2) == "own:tiny-a@r2" and union_pool(1) == "union@r1"
    for pool, model, round_ in [("own:tiny-a", "tiny-a", 0), ("own:tiny-a@r2", "tiny-a", 2),
                                ("union", None, 0), ("union@r1", None, 1), ("own:r.x", "r.x", 0)]:
        assert pool_model(pool) == model and pool_round(pool) == round_


def test_each_later_round_is_tested_against_the_previous_round_and_its_control():
    from rft.evaluation.round_comparisons import MATCHED, PREVIOUS_ROUND, round_comparisons

    def row(stage, training_set, grades, seed=42):
        return {"model": "a", "stage": stage, "training_set": training_set, "seed": seed,
                "accuracy": grades.count("1") / len(grades), "grades": grades}

    rows = [row("sft", "sft", "0000000000"), row("rft", "own:a", "1100000000"),
            row("rft", "own:a@r1", "1111110000"), row("sft_matched", "own:a@r1", "1000000000"),
            row("rft", "union@r1", "1111111111")]  # the union is no round of a's own paths
    tests = {c["versus"]: c for c in round_comparisons(rows)}
    assert set(tests) == {PREVIOUS_ROUND, MATCHED} and all(c["round"] == 1 for c in tests.values())
    # 4 questions only round 1 gets right, none the other way: exact McNemar p = 2 * 0.5^4
    assert tests[PREVIOUS_ROUND]["diff"] == pytest.approx(0.4) and tests[PREVIOUS_ROUND]["p_value"] == pytest.approx(0.125)
    assert tests[MATCHED]["diff"] == pytest.approx(0.5) and tests[MATCHED]["p_value"] == pytest.approx(0.0625)
    # Holm over the two: the smaller p times 2, then the larger kept at least as large
    assert tests[MATCHED]["p_holm"] == pytest.approx(0.125) and tests[PREVIOUS_ROUND]["p_holm"] == pytest.approx(0.125)


def test_the_rounds_plot_draws_a_model_with_and_without_evaluations():
    import pandas as pd

    from rft.reporting.round_plots import rounds_plot

    table = pd.DataFrame([
        {"model": "a", "round": 0, "share_solved": 0.5, "new_distinct": 10, "seeds": 1, "rft_accuracy": 0.3,
         "rft_sd": None, "rft_ci_low": 0.2, "rft_ci_high": 0.4, "matched_accuracy": 0.25},
        {"model": "a", "round": 1, "share_solved": 0.7, "new_distinct": 4, "seeds": 2, "rft_accuracy": 0.35,
         "rft_sd": 0.02, "rft_ci_low": None, "rft_ci_high": None, "matched_accuracy": 0.3},
        {"model": "b", "round": 0, "share_solved": 0.1, "new_distinct": 1, "seeds": None, "rft_accuracy": None,
         "rft_sd": None, "rft_ci_low": None, "rft_ci_high": None, "matched_accuracy": None},
    ])
    for model in ("a", "b", "missing"):
        assert rounds_plot(table, model).startswith(b"\x89PNG")
