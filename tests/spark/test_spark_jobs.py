"""The Spark jobs on three-row DataFrames: verification verdicts and the distinct-path rule."""

import random

from pyspark.testing import assertDataFrameEqual

from spark_jobs.distinct_paths import distinct_paths
from spark_jobs.verified_paths import verify_sampled_paths

QUESTIONS = [("q1", "12"), ("q2", "7")]
GOOD = "He buys 3*4=<<3*4=12>>12 apples.\n#### 12"
GOOD_OTHER_WORDING = "Three bags of four make 3*4=<<3*4=12>>12 in total, so\n#### 12"
GOOD_OTHER_ORDER = "4*3=<<4*3=12>>12 apples.\n#### 12"
FALSE_EQUATION = "He buys 3*4=<<3*4=13>>12 apples.\n#### 12"
HOSTILE = "<<__import__('os').system('id')=0>>\n#### 12"


def sampled(spark, rows):
    return spark.createDataFrame(
        rows, "path_id string, model string, question_id string, sample_idx int, text string"
    )


def questions(spark):
    return spark.createDataFrame(QUESTIONS, "question_id string, gold_answer string")


def test_verification_gives_a_verdict_and_a_reason_for_every_path(spark):
    paths = sampled(spark, [
        ("p1", "a", "q1", 0, GOOD),
        ("p2", "a", "q1", 1, FALSE_EQUATION),
        ("p3", "a", "q1", 2, HOSTILE),
        ("p4", "a", "q2", 0, GOOD),  # answers 12, gold is 7
        ("p5", "a", "q-unknown", 0, GOOD),
        ("p6", "a", "q1", 3, None),
    ])
    verdicts = {r.path_id: r for r in verify_sampled_paths(paths, questions(spark)).collect()}

    assert len(verdicts) == 6  # nothing dropped
    assert verdicts["p1"].is_correct and verdicts["p1"].reject_reason is None
    assert verdicts["p1"].equation_list == "3*4=12"
    assert verdicts["p2"].reject_reason == "equation_0:false_equation"
    assert verdicts["p3"].reject_reason.startswith("equation_0:lhs:")
    assert verdicts["p4"].reject_reason == "wrong_answer"
    assert verdicts["p5"].reject_reason == "unknown_question" and not verdicts["p5"].is_correct
    assert verdicts["p6"].reject_reason == "no_answer"


def dedup_inputs(spark, rows):
    texts = sampled(spark, rows)
    verified = verify_sampled_paths(texts, questions(spark))
    return verified, texts


ROWS = [
    ("p1", "a", "q1", 0, GOOD),
    ("p2", "b", "q1", 0, GOOD_OTHER_WORDING),  # same equations as p1, different words
    ("p3", "a", "q1", 1, GOOD_OTHER_ORDER),    # another equation list
    ("p4", "b", "q1", 1, FALSE_EQUATION),      # rejected: never distinct
]


def test_union_keeps_one_path_per_equation_list_and_every_producer(spark):
    verified, texts = dedup_inputs(spark, ROWS)
    union = {r.equation_list: r for r in distinct_paths(verified).filter("pool = 'union'").collect()}

    assert set(union) == {"3*4=12", "4*3=12"}
    same = union["3*4=12"]
    assert same.producer_models == ["a", "b"] and same.n_producers == 2
    assert sorted(p.path_id for p in same.producers) == ["p1", "p2"]
    assert union["4*3=12"].producer_models == ["a"]


def test_representative_is_the_path_farthest_from_the_other_lists(spark):
    verified, texts = dedup_inputs(spark, ROWS)
    union = {r.equation_list: r for r in distinct_paths(verified).filter("pool = 'union'").collect()}
    # p2's wording is farther (Levenshtein) from p3, the other list's anchor, than p1's is.
    assert union["3*4=12"].path_id == "p2"
    assert union["3*4=12"].diversity_score > 0


def test_own_pools_hold_one_models_paths(spark):
    verified, texts = dedup_inputs(spark, ROWS)
    pools = distinct_paths(verified)
    own_b = pools.filter("pool = 'own:b'").collect()
    assert [(r.equation_list, r.path_id) for r in own_b] == [("3*4=12", "p2")]
    assert pools.filter("pool = 'own:a'").count() == 2


def test_dedup_does_not_depend_on_input_order(spark):
    shuffled = ROWS[:]
    random.Random(7).shuffle(shuffled)
    first, second = dedup_inputs(spark, ROWS), dedup_inputs(spark, shuffled)
    assertDataFrameEqual(distinct_paths(first[0]), distinct_paths(second[0]))


def test_spark_path_ids_are_the_sha1_of_the_round_plans_key(spark):
    import hashlib

    from pyspark.sql import functions as F

    from rft.rounds.round_plan import path_key
    from spark_jobs.path_ids import path_id

    rows = [("m", "train-00001", 0, 0), ("m", "train-00001", 0, 1), ("m", "train-00001", 3, 2)]
    frame = spark.createDataFrame(rows, "model STRING, question_id STRING, sample_idx INT, round INT")
    got = frame.select(
        path_id(F.col("model"), F.col("question_id"), F.col("sample_idx"), F.col("round")).alias("with_round"),
        path_id(F.col("model"), F.col("question_id"), F.col("sample_idx")).alias("without"),
    ).collect()
    expected = [hashlib.sha1(path_key(*row).encode()).hexdigest() for row in rows]
    assert [r.with_round for r in got] == expected
    # round 0 is the one-round id; later rounds differ from it
    assert got[0].with_round == got[0].without and got[1].with_round != got[1].without
