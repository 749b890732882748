"""Dedup pools: which models' correct paths are deduplicated together, and their names.

A pool is `union` (every model's paths) or `own:<model>` (one model's). The names are values
in `rft.distinct_paths.pool` and training-set names in `rft.rft_datasets`, so they are spelled
here only.
"""

UNION_POOL = "union"
OWN_PREFIX = "own:"


def own_pool(model: str) -> str:
    return f"{OWN_PREFIX}{model}"


def pool_model(pool: str) -> str | None:
    """The model of an `own:<model>` pool; None for the union."""
    return pool[len(OWN_PREFIX):] if pool.startswith(OWN_PREFIX) else None
