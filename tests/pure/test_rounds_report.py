"""The rounds record: round 1's RFT against round 0's and against its step-matched control."""

import pandas as pd

from benches.rounds_report import arm_round, build_rounds_report, round_contrasts

QUESTIONS = [f"q{i}" for i in range(8)]


def run(arm, seed, steps, correct):
    record = {"arm": arm, "seed": seed, "train": {"n_steps": steps, "n_tokens": 100 * steps, "n_examples": 10}}
    grades = pd.Series([i < correct for i in range(len(QUESTIONS))], index=QUESTIONS)
    return record, grades


def test_round_names():
    assert arm_round("rft_own") == 0 and arm_round("sft_matched_r1") == 1 and arm_round("rft_own_r12") == 12
    assert round_contrasts({"rft_own", "rft_own_r1", "sft_matched_r1", "sft_matched"}) == [
        ("rft_own_r1", "rft_own"), ("rft_own_r1", "sft_matched_r1")]
    assert round_contrasts({"rft_own", "sft_matched"}) == []  # one round: nothing to compare


def test_each_run_has_its_round_and_each_contrast_is_tested_per_seed_and_pooled_with_holm():
    runs = [run("rft_own", 42, 5, 4), run("rft_own", 43, 5, 5), run("rft_own_r1", 42, 6, 6),
            run("rft_own_r1", 43, 6, 6), run("sft_matched_r1", 42, 6, 3), run("sft_matched_r1", 43, 6, 2)]
    records = [r for r, _ in runs]
    evals = {(r["arm"], r["seed"]): g for r, g in runs}

    report = build_rounds_report(records, evals, {0: {"distinct": 3}, 1: {"distinct": 5}},
                                 {0: "sft-s42", 1: "rft_own-s42"})

    assert [(r["arm"], r["round"], r["seed"], r["steps"]) for r in report["runs"]] == [
        ("rft_own", 0, 42, 5), ("rft_own", 0, 43, 5), ("rft_own_r1", 1, 42, 6), ("rft_own_r1", 1, 43, 6),
        ("sft_matched_r1", 1, 42, 6), ("sft_matched_r1", 1, 43, 6)]
    assert report["runs"][2]["accuracy"] == 0.75 and report["runs"][2]["ci_low"] < 0.75 < report["runs"][2]["ci_high"]
    assert [(a["arm"], a["round"]) for a in report["arms"]] == [("rft_own", 0), ("rft_own_r1", 1), ("sft_matched_r1", 1)]
    tests = report["tests"]
    assert [(t["a"], t["b"], t["scope"]) for t in tests] == [
        ("rft_own_r1", "rft_own", "seed"), ("rft_own_r1", "rft_own", "seed"), ("rft_own_r1", "rft_own", "pooled"),
        ("rft_own_r1", "sft_matched_r1", "seed"), ("rft_own_r1", "sft_matched_r1", "seed"),
        ("rft_own_r1", "sft_matched_r1", "pooled")]
    assert all(t["p_value"] <= t["p_holm"] <= 1 for t in tests)
    pooled = tests[5]
    assert pooled["difference"] == (6 + 6) / 16 - (3 + 2) / 16  # 75% against 31.25%
    assert report["rounds"] == [{"round": 0, "sampled_from": "sft-s42", "filter": {"distinct": 3}},
                                {"round": 1, "sampled_from": "rft_own-s42", "filter": {"distinct": 5}}]
