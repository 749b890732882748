"""The studies' training sets from tiny tables: first-k distinct paths and nested SFT fractions."""

import pandas as pd
import pytest

from rft.config.rft_config import SamplingConfig
from spark_jobs.schemas import QUESTIONS, SAMPLED_PATHS, VERIFIED_PATHS
from spark_jobs.study_datasets import (
    filter_fraction, first_k_distinct_paths, sampling_mismatch, subset_size, with_subset_order,
)


def verdict(model, question, sample, equations, correct=True):
    return {
        "path_id": f"{model}-{question}-{sample}", "model": model, "question_id": question, "sample_idx": sample,
        "is_correct": correct, "answer": "5", "gold_answer": "5", "equation_list": equations,
        "n_equations": equations.count("|") + 1, "reject_reason": None if correct else "wrong_answer",
        "filter_version": "v1", "text": f"{equations} #### 5" if correct else None,
    }


@pytest.fixture(scope="module")
def verified(spark):
    rows = [
        verdict("m", "q1", 0, "2+3=5"),
        verdict("m", "q1", 1, "2+3=5"),          # the same reasoning again
        verdict("m", "q1", 2, "3+2=5"),          # new reasoning, but only from k=3 on
        verdict("m", "q1", 3, "1+1=3", correct=False),
        verdict("m", "q2", 0, "9-5=5", correct=False),
        verdict("m", "q2", 1, "10/2=5"),
        verdict("other", "q1", 0, "5*1=5"),      # another model's path never counts
    ]
    return spark.createDataFrame(pd.DataFrame(rows, columns=VERIFIED_PATHS.required_columns), VERIFIED_PATHS.required_schema)


def test_distinct_paths_grow_with_k_and_count_each_equation_list_once(verified):
    counts = {k: first_k_distinct_paths(verified, "m", k).count() for k in (1, 2, 3, 4)}
    assert counts == {1: 1, 2: 2, 3: 3, 4: 3}
    rows = {(r.question_id, r.equation_list): r.n_producers for r in first_k_distinct_paths(verified, "m", 4).collect()}
    assert rows == {("q1", "2+3=5"): 2, ("q1", "3+2=5"): 1, ("q2", "10/2=5"): 1}


def test_paths_of_another_sampling_run_are_refused(verified, spark):
    sampled = spark.createDataFrame(pd.DataFrame(
        [{"path_id": "p", "model": "m", "question_id": "q1", "sample_idx": 0, "seed": 1, "temperature": 0.7,
          "text": "", "backend": "transformers", "run_id": "r"}], columns=SAMPLED_PATHS.required_columns,
    ), SAMPLED_PATHS.required_schema)
    assert sampling_mismatch(verified, sampled, "m", SamplingConfig(k=4, temperature=0.7)) is None
    assert "holds 4 samples per question of 'm', sampling.k is 8" in sampling_mismatch(
        verified, sampled, "m", SamplingConfig(k=8, temperature=0.7))
    assert "temperature [0.7], sampling.temperature is 1.0" in sampling_mismatch(
        verified, sampled, "m", SamplingConfig(k=4, temperature=1.0))
    assert "holds 0 samples" in sampling_mismatch(verified, sampled, "nobody", SamplingConfig(k=4))


@pytest.fixture(scope="module")
def questions(spark):
    rows = [{"question_id": f"train-{i:03d}", "split": "train", "question": "?", "answer_text": "#### 1",
             "gold_answer": "1", "source": "embedded"} for i in range(40)]
    rows += [{"question_id": "test-000", "split": "test", "question": "?", "answer_text": "#### 1",
              "gold_answer": "1", "source": "embedded"}]
    return spark.createDataFrame(pd.DataFrame(rows, columns=QUESTIONS.column_names), QUESTIONS.schema)


def chosen(questions, fraction, seed=0):
    return {r.question_id for r in filter_fraction(with_subset_order(questions, seed), fraction, 40).collect()}


def test_fractions_of_the_train_split_are_nested_and_seeded(questions):
    subsets = [chosen(questions, f) for f in (1 / 32, 1 / 8, 1 / 2, 1.0)]
    assert [len(s) for s in subsets] == [2, 5, 20, 40]
    assert all(small < large for small, large in zip(subsets, subsets[1:]))
    assert "test-000" not in subsets[-1]
    assert chosen(questions, 0.5) == chosen(questions, 0.5)
    assert chosen(questions, 0.5, seed=1) != chosen(questions, 0.5)


def test_the_order_does_not_depend_on_the_input_order(questions):
    shuffled = questions.orderBy("question_id", ascending=False).repartition(3)
    assert chosen(shuffled, 0.25) == chosen(questions, 0.25)


def test_subset_sizes_round_up_and_never_reach_zero():
    assert [subset_size(40, f) for f in (1 / 32, 0.1, 0.5, 1.0)] == [2, 4, 20, 40]
    assert subset_size(30, 0.1) == 3
    assert subset_size(3, 0.01) == 1
    with pytest.raises(ValueError, match="fraction"):
        subset_size(10, 0)
