"""Which evaluations the loss and union-gain studies reuse, from tiny eval_results and models tables."""

import json

import pytest

from spark_jobs.schemas import EVAL_RESULTS, MODELS
from spark_jobs.study_accuracy import rft_set_evaluations, stage_accuracies


def evaluation(model, stage, training_set, correct, metric="maj1@1", checkpoint=None, seed=7):
    return (model, stage, training_set, metric, 10, correct, correct / 10, 0.0, 1.0,
            checkpoint or f"ckpt/{model}/{training_set}", f"run-{model}", seed, 3, 300, None, "strict")


def checkpoint(model, stage, training_set, rft_rows):
    manifest = {"dataset": training_set, "rft_rows": rft_rows, "sft_rows": 40, "rows_version": 2}
    return (model, stage, training_set, f"ckpt/{model}/{training_set}", "tiny", "full", 40 + rft_rows, 3, 1.0,
            100.0, 1.0, json.dumps({"seed": 7}), json.dumps(manifest), "run", 7, 300)


@pytest.fixture(scope="module")
def tables(spark):
    evals = [
        evaluation("a", "sft", "sft", 2), evaluation("a", "rft", "own:a", 3), evaluation("a", "rft", "union", 5),
        evaluation("a", "sft", "sft", 4, metric="maj1@4"),   # not greedy: never read
        evaluation("a", "rft", "own:b", 9),                  # b's set on a's model: neither own nor union
        evaluation("a", "rft", "union", 8, seed=8),          # a second seed: these studies read the first
        evaluation("b", "sft", "sft", 1),
        evaluation("b", "rft", "union", 6, checkpoint="ckpt/b/old"),  # evaluated before b was retrained
    ]
    models = [checkpoint("a", "rft", "own:a", 11), checkpoint("a", "rft", "union", 129),
              checkpoint("b", "rft", "union", 129)]
    return spark.createDataFrame(evals, EVAL_RESULTS.required_schema), spark.createDataFrame(models, MODELS.required_schema)


def test_each_model_contributes_its_sft_and_own_rft_accuracy(tables):
    evals, _ = tables
    rows = sorted((r.model, r.stage, r.n_correct) for r in stage_accuracies(evals).collect())
    assert rows == [("a", "rft", 3), ("a", "sft", 2), ("b", "sft", 1)]


def test_union_gain_reads_both_sets_with_their_checkpoints_manifests(tables):
    evals, models = tables
    rows = {r.arm: r for r in rft_set_evaluations(evals, models, "a").collect()}
    assert set(rows) == {"own", "union"}
    assert (rows["own"].training_set, rows["own"].n_correct, rows["union"].n_correct) == ("own:a", 3, 5)
    assert json.loads(rows["union"].data_manifest)["rft_rows"] == 129
    assert rows["own"].checkpoint == rows["own"].trained_checkpoint and rows["own"].eval_run_id == "run-a"
    [stale] = rft_set_evaluations(evals, models, "b").collect()  # b has no own evaluation
    assert (stale.arm, stale.checkpoint, stale.trained_checkpoint) == ("union", "ckpt/b/old", "ckpt/b/union")
