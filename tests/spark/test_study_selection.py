"""The RFT-vs-diversity selections on one tiny model: same size, different numbers of distinct paths.

Then a cell's training examples from the chosen paths (spark_jobs/study_inputs.py). The cell's training
and evaluation are the same steps as every study's (tests/dagster/test_studies_e2e.py).
"""

from collections import Counter

import pandas as pd
import pytest

from spark_jobs.study_inputs import selection_examples
from rft.task.prompts import format_prompt
from spark_jobs.schemas import VERIFIED_PATHS
from spark_jobs.study_datasets import first_k_distinct_paths
from spark_jobs.study_selection import (
    COLUMNS, duplicate_sources, own_correct_paths, paths_per_selection, select_paths,
)


def verdict(model, question, sample, equations, correct=True):
    return {
        "path_id": f"{model}-{question}-{sample}", "model": model, "question_id": question, "sample_idx": sample,
        "is_correct": correct, "answer": "5", "gold_answer": "5", "equation_list": equations,
        "n_equations": 1, "reject_reason": None if correct else "wrong_answer",
        "filter_version": "v1", "text": f"<<{equations}>> #### 5 (sample {sample})" if correct else None,
    }


# Model m: 7 correct paths with 4 distinct equation lists; q1's "2+3=5" three times.
ROWS = [
    verdict("m", "q1", 0, "2+3=5"), verdict("m", "q1", 1, "2+3=5"), verdict("m", "q1", 2, "2+3=5"),
    verdict("m", "q1", 3, "3+2=5"),
    verdict("m", "q2", 0, "10/2=5"), verdict("m", "q2", 1, "10/2=5"), verdict("m", "q2", 2, "1*5=5"),
    verdict("m", "q2", 3, "9-5=5", correct=False),
    verdict("other", "q1", 0, "5*1=5"),  # another model's path is never chosen
]


def inputs(lake, rows=ROWS, partitions=1):
    verified = lake.spark.createDataFrame(pd.DataFrame(rows, columns=VERIFIED_PATHS.column_names),
                                          VERIFIED_PATHS.required_schema).repartition(partitions)
    # Computed once: the dedup UDF need not run again for every selection a test makes.
    return {"distinct": lake.computed_once(first_k_distinct_paths(verified, "m", 4)),
            "correct": lake.computed_once(own_correct_paths(verified, "m"))}


@pytest.fixture(scope="module")
def tables(lake):
    return {"ordered": inputs(lake), "shuffled": inputs(lake, list(reversed(ROWS)), partitions=3),
            "none correct": inputs(lake, [ROWS[-2]])}


@pytest.fixture(scope="module")
def chosen(tables):
    def choose(selection, n, seed=0, share=0.25, rows="ordered"):
        frame = select_paths(selection, **tables[rows], n=n, seed=seed, duplicate_share=share)
        return sorted((r.question_id, r.equation_list, r.path_id, r.copy) for r in frame.collect())
    return choose


def reasonings(rows):
    return {(question, equations) for question, equations, _, _ in rows}


def test_distinct_takes_each_reasoning_at_most_once(chosen):
    rows = chosen("distinct", 4)
    assert len(rows) == 4 and reasonings(rows) == {("q1", "2+3=5"), ("q1", "3+2=5"), ("q2", "10/2=5"), ("q2", "1*5=5")}
    assert len(reasonings(chosen("distinct", 3))) == 3


def test_all_correct_samples_the_correct_paths_repeats_included(chosen):
    everything = chosen("all_correct", 7)
    assert {path for _, _, path, _ in everything} == {r["path_id"] for r in ROWS if r["model"] == "m" and r["is_correct"]}
    four = chosen("all_correct", 4)
    assert len(four) == 4 and set(four) <= set(everything)
    assert not any(path.startswith("other") for _, _, path, _ in everything)


def test_duplicates_repeat_a_few_distinct_paths_to_the_same_size(chosen):
    rows = chosen("duplicates", 4, share=0.25)  # one source, four copies
    assert len(rows) == 4 and len({path for _, _, path, _ in rows}) == 1
    assert sorted(copy for *_, copy in rows) == [0, 1, 2, 3]
    rows = chosen("duplicates", 4, share=0.5)  # two sources, two copies each
    assert sorted(Counter(path for _, _, path, _ in rows).values()) == [2, 2]
    assert reasonings(rows) < reasonings(chosen("distinct", 4))  # sources are distinct paths


def test_a_selection_does_not_depend_on_the_input_order(chosen):
    for selection in ("distinct", "all_correct", "duplicates"):
        assert chosen(selection, 3, rows="shuffled") == chosen(selection, 3), selection


def test_the_seed_picks_other_paths(chosen):
    picks = {seed: chosen("all_correct", 3, seed=seed) for seed in range(6)}
    assert len({tuple(p) for p in picks.values()}) > 1
    assert chosen("all_correct", 3, seed=2) == picks[2]


def test_no_paths_asked_or_none_there_gives_an_empty_set(chosen):
    for selection in ("distinct", "all_correct", "duplicates"):
        assert chosen(selection, 0) == []
        assert chosen(selection, 3, rows="none correct") == []  # m has no correct path there


def test_every_cell_gets_the_same_number_of_paths():
    assert paths_per_selection(None, 12) == 12  # as many as there are distinct paths
    assert paths_per_selection(5, 12) == 5
    assert paths_per_selection(50, 12) == 12  # capped: distinct could not fill it
    assert [duplicate_sources(n, 0.25) for n in (0, 1, 4, 10, 12)] == [0, 1, 1, 3, 3]
    assert duplicate_sources(30, 0.1) == 3


def test_an_unknown_selection_is_an_error(tables):
    with pytest.raises(ValueError, match="unknown selection 'dedup'"):
        select_paths("dedup", **tables["ordered"], n=1, seed=0, duplicate_share=0.25)


def test_a_cells_examples_are_the_sft_data_then_every_chosen_path_repeats_included():
    sft = pd.DataFrame({"prompt": ["p0"], "response": [" gold"]})
    questions = pd.DataFrame({"question_id": ["q1", "q2"], "question": ["What is 2+3?", "What is 10/2?"]})
    paths = pd.DataFrame([("q1", "m-q1-0", "2+3=5", "2+3=5 #### 5", 0), ("q1", "m-q1-0", "2+3=5", "2+3=5 #### 5", 1),
                          ("q2", "m-q2-0", "10/2=5", "10/2=5 #### 5", 0)], columns=COLUMNS)
    examples, counts = selection_examples(paths, questions, sft)
    assert counts == {"x": 3.0, "distinct_paths": 2, "n_sft_rows": 1}
    assert list(examples["response"]) == [" gold", " 2+3=5 #### 5", " 2+3=5 #### 5", " 10/2=5 #### 5"]
    assert examples["prompt"].iloc[1] == format_prompt("What is 2+3?")
    empty, counts = selection_examples(paths.iloc[:0], questions, sft)  # no correct path: SFT data alone
    assert counts == {"x": 0.0, "distinct_paths": 0, "n_sft_rows": 1} and list(empty["prompt"]) == ["p0"]
