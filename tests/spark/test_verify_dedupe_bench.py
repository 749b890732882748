"""The benchmark's parts are what they claim: realistic input, a faithful baseline, and exact agreement.

These are correctness checks on a small input; the timings live in benches/results/.
"""

from collections import Counter

import pyarrow.parquet as pq
import pytest

from benches import baseline
from benches.dedup_builtin import distinct_paths_builtin
from benches.synthetic_paths import generate, load_solutions
from rft.filter.path_verdict import verify_path
from spark_jobs.distinct_paths import distinct_paths
from spark_jobs.path_ids import path_id
from spark_jobs.verified_paths import verify_sampled_paths


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    generate(folder, n_paths=3_000, n_models=2, solutions=load_solutions()[:60])  # k = 25 per model
    return folder


def read_rows(folder):
    gold = {r["question_id"]: r["gold_answer"] for r in pq.read_table(folder / "questions.parquet").to_pylist()}
    return gold, pq.read_table(folder / "generations").to_pylist()


def test_synthetic_paths_are_mostly_wrong_some_hostile_and_share_equation_lists(synthetic):
    gold, rows = read_rows(synthetic)
    verdicts = [verify_path(r["text"], gold[r["question_id"]]) for r in rows]
    reasons = Counter((v.reject_reason or "correct").split(":")[0] for v in verdicts)

    assert len(rows) == 3_000
    assert 0.33 < reasons["correct"] / len(rows) < 0.47  # "about 40%"
    assert reasons["wrong_answer"] > 0 and reasons["no_answer"] > 0 and reasons["text_too_long"] > 0
    assert any("bad_character" in (v.reject_reason or "") for v in verdicts)  # names, calls, ^ and %
    lists_per_question = Counter(
        (r["question_id"], v.equation_list) for r, v in zip(rows, verdicts) if v.is_correct
    )
    questions_with_correct = {q for q, _ in lists_per_question}
    # Many correct paths, few lists: duplicates are the common case, as in real samples.
    assert len(lists_per_question) < sum(lists_per_question.values()) / 3
    assert len(lists_per_question) > len(questions_with_correct)


def test_memoised_verification_gives_the_same_verdicts_as_the_plain_one(synthetic):
    gold, rows = read_rows(synthetic)
    for row in rows:
        g = gold[row["question_id"]]
        assert verify_path(row["text"], g) == verify_path(row["text"], g, memoize=False)


def load(spark, folder):
    from pyspark.sql import functions as F

    questions = spark.read.parquet(str(folder / "questions.parquet")).select("question_id", "gold_answer")
    sampled = spark.read.parquet(str(folder / "generations")).withColumn(
        "path_id", path_id(F.col("model"), F.col("question_id"), F.col("sample_idx"))
    )
    return questions, sampled


def test_spark_jobs_agree_with_the_baseline_on_every_distinct_list_and_producer_count(spark, synthetic):
    questions, sampled = load(spark, synthetic)
    ours = distinct_paths(verify_sampled_paths(sampled, questions))
    ours_keys = {tuple(r) for r in ours.select("pool", "question_id", "equation_list", "n_producers").collect()}
    base_keys = {(d["pool"], d["question_id"], d["equation_list"], d["n_producers"]) for d in baseline.run(synthetic)}
    assert ours_keys == base_keys
    assert len(ours_keys) > 60


def test_arrow_udf_dedup_equals_the_spark_builtin_levenshtein_version_row_for_row(spark, synthetic):
    questions, sampled = load(spark, synthetic)
    verified = verify_sampled_paths(sampled, questions)
    ours, builtin = distinct_paths(verified), distinct_paths_builtin(verified)
    assert sorted_rows(ours) == sorted_rows(builtin)


def sorted_rows(df):
    """Rows as plain, sortable tuples (the two plans differ only in column nullability)."""
    def plain(value):
        if isinstance(value, list):
            return tuple(plain(v) for v in value)
        return tuple(value) if hasattr(value, "asDict") else value

    return sorted(tuple(plain(v) for v in row) for row in df.collect())
