"""The GSM8K run's report: results table and paired tests, from the eval files the GPU steps return."""

import json

import pandas as pd
import pytest

from benches.gsm8k_rft import _model_and_stage, main
from rft.evaluation.significance import mcnemar_p_value


def test_model_names_with_dots_are_split_from_their_stage():
    assert _model_and_stage("out/qwen2.5-coder-0.5b.sft.eval.parquet") == ("qwen2.5-coder-0.5b", "sft")
    assert _model_and_stage("qwen2.5-coder-0.5b.rft-own_qwen2.5-coder-0.5b.eval.parquet") == (
        "qwen2.5-coder-0.5b", "rft-own_qwen2.5-coder-0.5b")
    with pytest.raises(ValueError, match="expected MODEL.sft.eval.parquet"):
        _model_and_stage("qwen.samples.parquet")


def test_mcnemar_counts_only_the_questions_the_models_disagree_on():
    assert mcnemar_p_value(0, 0) == 1.0
    assert mcnemar_p_value(5, 5) == 1.0
    assert mcnemar_p_value(10, 0) == pytest.approx(2 / 2 ** 10)  # all ten discordant go one way
    assert mcnemar_p_value(159, 122) == mcnemar_p_value(122, 159)
    with pytest.raises(ValueError):
        mcnemar_p_value(-1, 3)


def _eval_file(folder, name, verdicts):
    rows = pd.DataFrame({"question_id": [f"test-{i}" for i in range(len(verdicts))], "metric": "maj1@1",
                         "text": "", "answer": "", "is_correct": verdicts})
    rows.to_parquet(folder / f"{name}.eval.parquet", index=False)


def test_the_report_lists_sft_own_and_union_per_model_with_paired_gains(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    _eval_file(results, "qwen2.5-coder-0.5b.sft", [True, False, False, False])
    _eval_file(results, "qwen2.5-coder-0.5b.rft-own_qwen2.5-coder-0.5b", [True, True, True, False])
    _eval_file(results, "qwen2.5-coder-0.5b.rft-union", [False, True, False, False])
    summary = {"verified": [], "distinct": [{"pool": "own:qwen2.5-coder-0.5b", "distinct": 7},
                                            {"pool": "union", "distinct": 9}], "sets": {}}
    (tmp_path / "filter.json").write_text(json.dumps(summary))
    record = tmp_path / "gsm8k_rft.json"
    record.write_text(json.dumps({"finding": "the controlled runs' report", "earlier_uncontrolled_run": {
        "commands": ["kept as written"]}}))

    main(["report", "--results", str(results), "--filter", str(tmp_path / "filter.json"), "--json", str(record)])

    everything = json.loads(record.read_text())
    assert everything["finding"] == "the controlled runs' report"
    written = everything["earlier_uncontrolled_run"]  # one seed, no control: kept apart from the controls' report
    assert written["commands"] == ["kept as written"]
    assert [(e["stage"], e["training_set"], e["correct"], e["distinct_paths"]) for e in written["entries"]] == [
        ("sft", "sft", 1, None), ("rft", "own:qwen2.5-coder-0.5b", 3, 7), ("rft", "union", 1, 9)]
    own, union = written["paired"]
    assert (own["only_rft_correct"], own["only_sft_correct"], own["gain"]) == (2, 0, 0.5)
    assert (union["only_rft_correct"], union["only_sft_correct"], union["gain"]) == (1, 1, 0.0)
    assert union["mcnemar_p"] == 1.0
