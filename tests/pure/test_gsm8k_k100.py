"""The k=100 bench's figures on tiny verified-path tables, and its pieces that fit the way back."""

import pandas as pd

from benches.gsm8k_k100 import distinct_growth, per_question, split_into_pieces

VERIFIED = pd.DataFrame({
    "question_id": ["q1", "q1", "q1", "q1", "q2", "q2", "q3"],
    "sample_idx": [0, 1, 2, 3, 0, 3, 0],
    "is_correct": [False, True, True, True, False, True, False],
    "equation_list": [None, "1+1=2", "1+1=2", "2*1=2", None, "3-1=2", None],
})


def test_per_question_counts_correct_and_distinct_paths_and_the_first_success():
    rows = per_question(VERIFIED, k_max=4).set_index("question_id")
    assert rows.loc["q1", "n_correct"] == 3 and rows.loc["q1", "n_distinct"] == 2
    assert rows.loc["q1", "first_correct_idx"] == 1 and rows.loc["q2", "first_correct_idx"] == 3
    assert rows.loc["q3", "n_correct"] == 0 and pd.isna(rows.loc["q3", "first_correct_idx"])


def test_distinct_paths_grow_with_the_first_k_samples():
    growth = {row["k"]: row for row in distinct_growth(VERIFIED, [1, 2, 4])}
    assert growth[1]["distinct_paths"] == 0
    assert growth[2]["distinct_paths"] == 1  # q1's sample 1
    assert growth[4]["distinct_paths"] == 3  # q1: two lists, q2: one
    assert growth[4]["distinct_per_question"] == 1.0 and growth[4]["questions_with_a_correct_path"] == 2


def test_samples_split_into_pieces_under_the_size_limit_and_lose_no_row(tmp_path):
    samples = pd.DataFrame({"question_id": [f"q{i}" for i in range(3000)], "sample_idx": 0,
                            "text": [f"path {i} " * 40 for i in range(3000)]})
    samples.to_parquet(tmp_path / "samples.parquet")
    pieces = split_into_pieces(str(tmp_path / "samples.parquet"), str(tmp_path / "pieces"), max_bytes=100_000)
    assert len(pieces) > 1
    assert all((tmp_path / "pieces" / p.split("/")[-1]).stat().st_size <= 100_000 for p in pieces)
    back = pd.concat([pd.read_parquet(p) for p in pieces], ignore_index=True)
    pd.testing.assert_frame_equal(back, samples)
