"""Dedup pools: which models' correct paths are deduplicated together, and their names.

A pool is `union` (every model's paths) or `own:<model>` (one model's). The names are values
in `rft.distinct_paths.pool` and training-set names in `rft.rft_datasets`, so they are spelled
here only. A later round's pool carries its round, `own:<model>@r1` or `union@r1`; round 0's
names are the one-round names, so tables written before rounds need no change. Model names
cannot hold `@` (rft.models.model_names), so the suffix is never part of a model's name.
"""

from rft.rounds.round_plan import check_round

UNION_POOL = "union"
OWN_PREFIX = "own:"
ROUND_MARK = "@r"


def _in_round(name: str, round_: int) -> str:
    return name if check_round(round_) == 0 else f"{name}{ROUND_MARK}{round_}"


def own_pool(model: str, round_: int = 0) -> str:
    return _in_round(f"{OWN_PREFIX}{model}", round_)


def union_pool(round_: int = 0) -> str:
    return _in_round(UNION_POOL, round_)


def pool_round(pool: str) -> int:
    """The round a pool (or training-set) name belongs to: 0 unless it ends in `@r<round>`."""
    name, mark, round_ = pool.rpartition(ROUND_MARK)
    if not mark or not round_.isdigit() or not name:
        return 0
    return int(round_)


def pool_model(pool: str) -> str | None:
    """The model of an `own:<model>` pool (of any round); None for the union."""
    if not pool.startswith(OWN_PREFIX):
        return None
    name = pool[len(OWN_PREFIX):]
    return name.rpartition(ROUND_MARK)[0] if pool_round(pool) else name
