"""The representative rule of `rft.filter.equation_dedup` on a handful of texts, and agreement with other implementations."""

import random

import Levenshtein
import pyarrow as pa

from rft.filter.equation_dedup import representatives
from spark_jobs.distinct_paths import question_representatives
from spark_jobs.schemas import DISTINCT_PATHS


def brute_force(path_ids, equation_lists, texts):
    """The rule written out with one distance call per pair: {equation_list: (path_id, score)}."""
    anchors = {}
    for pid, key, text in zip(path_ids, equation_lists, texts):
        if key not in anchors or pid < anchors[key][0]:
            anchors[key] = (pid, text)
    best = {}
    for pid, key, text in zip(path_ids, equation_lists, texts):
        score = sum(Levenshtein.distance(text, a_text) for k, (_, a_text) in anchors.items() if k != key)
        if key not in best or (-score, pid) < (-best[key][1], best[key][0]):
            best[key] = (pid, score)
    return best


def as_dict(groups, path_ids):
    return {g.equation_list: (path_ids[g.representative], g.diversity_score) for g in groups}


def test_a_lone_group_scores_zero_and_keeps_its_smallest_path_id():
    groups = representatives(["p2", "p1", "p3"], ["a=1", "a=1", "a=1"], ["xx", "yyyy", "z"])
    assert [(g.equation_list, g.representative, g.diversity_score, g.members) for g in groups] == [
        ("a=1", 1, 0, (0, 1, 2))
    ]


def test_the_member_farthest_from_the_other_groups_anchor_is_kept():
    path_ids = ["p1", "p2", "p3"]
    lists = ["2+2=4", "2+2=4", "4*1=4"]
    texts = ["two plus two", "completely different words", "two plus two!"]
    groups = as_dict(representatives(path_ids, lists, texts), path_ids)
    # The anchor of "4*1=4" is p3 (its only member); p2 is farther from it than p1.
    assert groups["2+2=4"] == ("p2", Levenshtein.distance(texts[1], texts[2]))
    assert groups["4*1=4"] == ("p3", Levenshtein.distance(texts[2], texts[0]))  # p1 anchors "2+2=4"


def test_ties_go_to_the_smallest_path_id():
    groups = representatives(["p9", "p5", "p7"], ["x", "x", "y"], ["ab", "ab", "cd"])
    assert as_dict(groups, ["p9", "p5", "p7"])["x"] == ("p5", 2)


def test_input_order_does_not_matter_and_matches_the_pairwise_rule():
    rng = random.Random(7)
    words = ["add", "the", "apples", "so", "then", "total", "each", "bag", "is", "of"]
    rows = [(f"p{rng.randrange(10**6):06d}", rng.choice(["a", "b", "c", "d"]),
             " ".join(rng.choices(words, k=rng.randint(1, 12)))) for _ in range(60)]
    rows = list({pid: (pid, key, text) for pid, key, text in rows}.values())
    expected = brute_force(*zip(*rows))
    for _ in range(5):
        rng.shuffle(rows)
        path_ids, lists, texts = (list(c) for c in zip(*rows))
        assert as_dict(representatives(path_ids, lists, texts), path_ids) == expected


def test_one_question_gives_rows_for_the_union_and_each_models_own_pool():
    paths = pa.table({
        "question_id": ["q1"] * 4, "path_id": ["p1", "p2", "p3", "p4"], "model": ["a", "b", "a", "b"],
        "sample_idx": [0, 0, 1, 1], "equation_list": ["3*4=12", "3*4=12", "4*3=12", "3*4=12"],
        "text": ["3*4 apples", "three fours", "4*3 apples", "3*4 apples!"], "round": [0, 0, 0, 1],
    })
    table = question_representatives(paths)
    assert table.schema == DISTINCT_PATHS.arrow_schema()  # rft.distinct_paths' rows as stored
    rows = {(r["pool"], r["equation_list"]): r for r in table.to_pylist()}
    assert sorted(rows) == [("own:a", "3*4=12"), ("own:a", "4*3=12"), ("own:b", "3*4=12"),
                            ("union", "3*4=12"), ("union", "4*3=12")]
    union = rows[("union", "3*4=12")]
    assert union["n_producers"] == 3 and union["producer_models"] == ["a", "b"]
    assert [(p["model"], p["sample_idx"], p["round"]) for p in union["producers"]] == [("a", 0, 0), ("b", 0, 0), ("b", 1, 1)]
    assert rows[("own:b", "3*4=12")]["diversity_score"] == 0  # b has one equation list
