"""The controls bench's plan and its Spark-free filter (benches/gsm8k_controls.py)."""

import pandas as pd
import pytest

from benches.gsm8k_controls import check_units, main, own_distinct_paths, path_id, plan, union_distinct_paths
from rft.task.gsm8k import gsm8k_dir, load_jsonl_questions


def test_every_seed_gets_rft_its_step_matched_control_and_sft():
    assert plan([42, 43]) == [
        ("base", None), ("sft", 42), ("sample", None), ("filter", None),
        ("rft_own", 42), ("sft_matched", 42), ("rft_own", 43), ("sft_matched", 43), ("sft", 43),
    ]


def test_the_filter_keeps_one_correct_path_per_equation_list():
    gold = load_jsonl_questions(gsm8k_dir() / "train.jsonl", "train", limit=3)
    questions = pd.DataFrame({"question_id": [q["question_id"] for q in gold],
                              "gold_answer": [q["answer"].split("####")[-1].strip() for q in gold]})
    wrong = gold[0]["answer"].rsplit("####", 1)[0] + "#### 999"
    samples = pd.DataFrame([
        {"question_id": q["question_id"], "sample_idx": j, "text": q["answer"]} for q in gold for j in (0, 1)
    ] + [{"question_id": gold[0]["question_id"], "sample_idx": 2, "text": wrong}])
    distinct, counts = own_distinct_paths(samples, questions, "m")
    assert counts == {"sampled": 7, "correct": 6, "distinct": 3}
    assert distinct["n_producers"].tolist() == [2, 2, 2]
    assert set(distinct["pool"]) == {"own:m"}
    # ties between identical texts go to the smallest path id, as in the Spark job
    first = distinct[distinct["question_id"] == gold[0]["question_id"]].iloc[0]
    assert first["path_id"] == min(path_id("m", gold[0]["question_id"], j) for j in (0, 1))


def test_a_partner_model_adds_its_sft_samples_and_the_union_arm_with_its_control():
    assert plan([42], union_seeds=[42])[-6:] == [
        ("partner_base", None), ("partner_sft", None), ("partner_sample", None), ("filter_union", None),
        ("union", 42), ("sft_matched_union", 42),
    ]


def test_units_outside_the_plan_are_a_clear_error_not_a_silent_no_op():
    check_units(["sft-s43", "union-s42"], plan([42, 43], union_seeds=[42]), partner="smol.gguf")
    with pytest.raises(SystemExit, match="union-s42 not in this plan \\(union units need --partner\\)"):
        check_units(["union-s42"], plan([42]), partner=None)
    with pytest.raises(SystemExit, match="sft-s99 not in this plan"):
        check_units(["sft-s99"], plan([42]), partner=None)


def test_a_partner_with_the_models_own_name_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["gpu", "--base", "tiny-llama-a", "--name", "m", "--partner", "tiny-llama-b", "--partner-name", "m",
              "--gsm8k", "data/gsm8k", "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o")])
    assert "--partner-name must differ from --name" in capsys.readouterr().err


def test_the_union_keeps_one_path_per_equation_list_across_models():
    gold = load_jsonl_questions(gsm8k_dir() / "train.jsonl", "train", limit=2)
    questions = pd.DataFrame({"question_id": [q["question_id"] for q in gold],
                              "gold_answer": [q["answer"].split("####")[-1].strip() for q in gold]})
    # both models solve question 0 the gold way; only the partner solves question 1
    mine = pd.DataFrame([{"question_id": gold[0]["question_id"], "sample_idx": 0, "text": gold[0]["answer"]},
                         {"question_id": gold[1]["question_id"], "sample_idx": 0, "text": "#### 0"}])
    theirs = pd.DataFrame([{"question_id": q["question_id"], "sample_idx": 0, "text": q["answer"]} for q in gold])
    distinct, counts = union_distinct_paths({"m": mine, "p": theirs}, questions)
    assert counts["correct"] == 3 and counts["distinct"] == 2
    assert set(distinct["pool"]) == {"union"}
    assert distinct["n_producers"].tolist() == [2, 1]
    # the shared path is kept once, under the smaller path id of the two models
    q0 = gold[0]["question_id"]
    assert distinct["path_id"].iloc[0] == min(path_id("m", q0, 0), path_id("p", q0, 0))
    assert counts["models"]["m"] == {"sampled": 2, "correct": 1,
                                     "distinct_chosen": int(distinct["model"].eq("m").sum())}
    assert counts["models"]["p"]["correct"] == 2


def test_a_second_round_samples_from_rft_and_trains_each_seed_with_its_control():
    assert plan([42, 43], rounds=2)[-6:] == [
        ("sample_r1", None), ("filter_r1", None),
        ("rft_own_r1", 42), ("sft_matched_r1", 42), ("rft_own_r1", 43), ("sft_matched_r1", 43),
    ]


def test_round_one_pools_both_rounds_paths_and_keys_its_samples_apart():
    gold = load_jsonl_questions(gsm8k_dir() / "train.jsonl", "train", limit=1)
    questions = pd.DataFrame({"question_id": [gold[0]["question_id"]],
                              "gold_answer": [gold[0]["answer"].split("####")[-1].strip()]})
    text = gold[0]["answer"]
    samples = pd.DataFrame([{"question_id": gold[0]["question_id"], "sample_idx": 0, "text": text, "round": r}
                            for r in (0, 1)])
    distinct, counts = own_distinct_paths(samples, questions, "m", round_=1)
    assert counts["correct"] == 2 and len(distinct) == 1 and distinct["n_producers"].tolist() == [2]
    assert distinct["pool"].tolist() == ["own:m@r1"]
    # sample 0 of round 1 is another path than sample 0 of round 0
    assert path_id("m", gold[0]["question_id"], 0, 1) != path_id("m", gold[0]["question_id"], 0)
    assert distinct["path_id"].iloc[0] == min(path_id("m", gold[0]["question_id"], 0, r) for r in (0, 1))
