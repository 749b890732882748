"""The controlled runs' report: runs, arms over seeds, paired contrasts with Holm, the finding."""

import json

import pandas as pd
import pytest

from benches.gsm8k_controls import main
from benches.gsm8k_controls_report import (EARLIER_KEY, build_report, contrast_pairs, contrast_tests, finding,
                                           grade_table, with_holm)
from rft.evaluation.significance import holm_adjust, mcnemar_p_value, wilson_interval

def _run(arm, seed, grades, steps=3, **extra):
    record = {"arm": arm, "seed": seed, "device": "tiny card",
              "train": {"n_steps": steps, "n_tokens": 100 * steps, "n_examples": 10}, **extra}
    return record, pd.Series([bool(g) for g in grades], index=[f"test-{i}" for i in range(len(grades))])


def _runs():
    return [
        _run("sft", 1, [1, 1, 0, 0, 0, 0]),
        _run("sft", 2, [1, 0, 1, 0, 0, 0]),
        _run("sft_matched", 1, [1, 0, 0, 0, 0, 0], steps=7, matched_to="rft_own-s1"),
        _run("rft_own", 1, [1, 1, 1, 1, 1, 0], steps=7),
        _run("rft_own", 2, [1, 1, 1, 1, 0, 0], steps=7),
    ]


def _report(runs=None):
    runs = runs or _runs()
    return build_report([r for r, _ in runs], {(r["arm"], r["seed"]): g for r, g in runs},
                        {"sampled": 48, "correct": 20, "distinct": 9}, {"k": 8})


def test_each_run_is_counted_from_its_graded_answers_with_its_wilson_interval():
    report = _report()

    own = next(r for r in report["runs"] if (r["arm"], r["seed"]) == ("rft_own", 1))
    assert (own["correct"], own["n"], own["steps"], own["training_tokens"]) == (5, 6, 7, 700)
    assert (own["ci_low"], own["ci_high"]) == wilson_interval(5, 6)
    assert [(r["arm"], r["seed"]) for r in report["runs"]] == [
        ("sft", 1), ("sft", 2), ("sft_matched", 1), ("rft_own", 1), ("rft_own", 2)]


def test_an_arm_is_summarised_over_its_seeds():
    sft = next(a for a in _report()["arms"] if a["arm"] == "sft")

    assert sft["seeds"] == [1, 2]
    assert sft["accuracy"]["mean"] == pytest.approx(2 / 6)
    assert sft["accuracy"]["sd"] == pytest.approx(0.0)
    assert sft["steps"] == [3, 3]


def test_contrasts_are_those_whose_arms_both_ran_and_the_matched_control_is_read_from_the_runs():
    assert contrast_pairs({"sft", "sft_matched", "rft_own"}, {"sft_matched": "rft_own"}) == [
        ("rft_own", "sft"), ("rft_own", "sft_matched"), ("sft_matched", "sft")]
    assert contrast_pairs({"sft", "rft_own"}, {}) == [("rft_own", "sft")]
    assert contrast_pairs({"sft", "rft_own", "union", "sft_matched_union"}, {"sft_matched_union": "union"}) == [
        ("rft_own", "sft"), ("union", "rft_own"), ("union", "sft"), ("union", "sft_matched_union"),
        ("sft_matched_union", "sft")]


def test_per_seed_tests_pair_seed_s_with_seed_s_and_are_mcnemar_then_one_pooled_test():
    grades = grade_table({(r["arm"], r["seed"]): g for r, g in _runs()})

    tests = contrast_tests("rft_own", "sft_matched", grades)

    seed_1, pooled = tests  # sft_matched has no seed 2: only seed 1 is paired within a seed
    assert (seed_1["scope"], seed_1["seeds_a"], seed_1["only_a"], seed_1["only_b"]) == ("seed", [1], 4, 0)
    assert seed_1["p_value"] == pytest.approx(mcnemar_p_value(4, 0))
    assert (pooled["scope"], pooled["seeds_a"], pooled["seeds_b"]) == ("pooled", [1, 2], [1])
    assert pooled["difference"] == pytest.approx((4.5 - 1) / 6)


def test_two_one_seed_arms_of_one_seed_get_their_mcnemar_test_once():
    grades = grade_table({(r["arm"], r["seed"]): g for r, g in _clear_runs()})

    tests = contrast_tests("rft_own", "sft_matched", grades)

    assert [t["scope"] for t in tests] == ["seed"]


def test_holm_runs_over_every_test_of_the_report_and_the_family_is_named():
    report = _report()

    raw = [t["p_value"] for t in report["tests"]]
    assert [t["p_holm"] for t in report["tests"]] == holm_adjust(raw)
    # rft_own vs sft: seeds 1 and 2, then pooled; each contrast with sft_matched: seed 1, then pooled
    assert len(report["tests"]) == 3 + 2 + 2
    assert "every test in `tests`" in report["holm_family"]
    assert with_holm([]) == []


def test_the_finding_says_what_holm_allows_and_no_more():
    small = finding(*_arms_and_tests(_report()))
    assert "no difference shown" in small
    assert "is not shown to beat SFT trained for the same number of steps" in small

    strong = finding(*_arms_and_tests(_report(_clear_runs())))
    assert "RFT own scores" in strong and "above step-matched SFT" in strong
    assert "the extra optimizer steps alone do not explain its gain" in strong


def test_the_finding_says_whether_the_union_differs_from_own_paths():
    runs = _clear_runs() + [_run("union", 1, [1] * 40 + [0] * 20, steps=7)]
    text = finding(*_arms_and_tests(_report(runs)))
    assert "RFT union against RFT own: no difference shown" in text
    assert "union of several models' paths is not shown to differ from the model's own paths alone" in text


def _arms_and_tests(report):
    return report["arms"], report["tests"]


def _clear_runs():
    """60 questions; RFT own is right on 30 that both SFT arms miss, so its contrasts are clear."""
    sft = [1] * 10 + [0] * 50
    return [_run("sft", 1, sft), _run("sft_matched", 1, sft, steps=7, matched_to="rft_own-s1"),
            _run("rft_own", 1, [1] * 40 + [0] * 20, steps=7)]


def test_runs_graded_on_different_questions_are_refused():
    a = pd.Series([True, False], index=["q1", "q2"])
    b = pd.Series([True, False], index=["q1", "q3"])
    with pytest.raises(ValueError, match="rft_own-s1 is not graded on the same test questions"):
        grade_table({("sft", 1): a, ("rft_own", 1): b})


def test_the_report_command_reads_a_results_folder_and_keeps_the_earlier_record(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    for record, grades in _runs():
        name = f"{record['arm']}-s{record['seed']}"
        (folder / f"{name}.json").write_text(json.dumps(record))
        pd.DataFrame({"question_id": grades.index, "metric": "maj1@1", "text": "", "answer": "",
                      "is_correct": grades.values}).to_parquet(folder / f"{name}.eval.parquet", index=False)
    (folder / "filter.json").write_text(json.dumps({"filter": {"sampled": 48, "correct": 20, "distinct": 9}}))
    (folder / "sample.json").write_text(json.dumps({"sample": {"k": 8, "temperature": 0.7}, "device": "tiny card"}))
    record = tmp_path / "gsm8k_rft.json"
    record.write_text(json.dumps({EARLIER_KEY: {"note": "kept"}, "finding": "replaced"}))

    main(["report", "--results", str(folder), "--json", str(record)])

    written = json.loads(record.read_text())
    assert written[EARLIER_KEY] == {"note": "kept"}
    assert written["finding"].startswith("Greedy GSM8K test accuracy, mean over training seeds: SFT 33.3%")
    assert written["filter"] == {"sampled": 48, "correct": 20, "distinct": 9}
    assert (written["sampling"]["sampled_from"], written["sampling"]["k"]) == ("sft-s42", 8)
    assert written["contrasts"] == ["rft_own vs sft", "rft_own vs sft_matched", "sft_matched vs sft"]
