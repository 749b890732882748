"""What each round samples from, trains on and is keyed by: pure rules, no Spark or Dagster.

Round 0 keeps every rule of the one-round pipeline unchanged (its path ids, seeds and pools),
so tables written before rounds existed are round 0 as they stand.
"""

from __future__ import annotations

from typing import Literal

# Round r's sampling seeds are the base seed moved by r times this prime, so no two rounds of
# one model draw the same random stream for a question (sample_seed hashes the base seed anyway;
# the offset only has to differ per round).
ROUND_SEED_STRIDE = 1_000_003


def check_round(round_: int) -> int:
    if isinstance(round_, bool) or not isinstance(round_, int) or round_ < 0:
        raise ValueError(f"a round is an integer >= 0, got {round_!r}")
    return round_


def sampling_policy(round_: int) -> tuple[str, int | None]:
    """The checkpoint round r samples from: ("sft", None) for round 0, ("rft", r - 1) after."""
    check_round(round_)
    return ("sft", None) if round_ == 0 else ("rft", round_ - 1)


def rounds_in_training_set(round_: int, paths: Literal["cumulative", "last"]) -> list[int]:
    """The rounds whose distinct paths go into round r's RFT training set."""
    check_round(round_)
    if paths == "cumulative":
        return list(range(round_ + 1))
    if paths == "last":
        return [round_]
    raise ValueError(f"paths is cumulative or last, got {paths!r}")


def round_base_seed(base_seed: int, round_: int) -> int:
    """The sampling base seed of round r (round 0: the configured seed itself)."""
    return base_seed + check_round(round_) * ROUND_SEED_STRIDE


def path_key(model: str, question_id: str, sample_idx: int, round_: int = 0) -> str:
    """The text hashed into a path id: `model|question_id|sample_idx`, plus `|r<round>` after round 0.

    Round 0 keeps the one-round key, so existing rows keep their ids; a later round's sample j of
    the same question is a different path with a different id.
    """
    key = f"{model}|{question_id}|{sample_idx}"
    return key if check_round(round_) == 0 else f"{key}|r{round_}"
