"""Distinct reasoning paths: one representative per (pool, question, equation list).

The rule is `rft.filter.equation_dedup.representatives` (semantics in docs/verification.md): per pool and
question, the member of each equation-list group with the largest summed Levenshtein distance
to the other groups' anchors, ties to the smallest `path_id`, independent of input order.

Pools: `union` (every model's correct paths together) and `own:<model>` (one model's). Each
question's correct paths are shuffled once, with their texts (`rft.verified_paths` keeps the
texts of correct paths, so no join with `rft.sampled_paths` is needed), and one grouped Arrow
UDF computes all of its pools: the distances between a question's texts are the expensive
part and need the whole question in one place.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.filter.path_verdict import FILTER_VERSION
from rft.filter.pools import own_pool, union_pool
from spark_jobs.schemas import DISTINCT_PATHS

INPUT_COLUMNS = ["question_id", "path_id", "model", "sample_idx", "equation_list", "text", "round"]
# The UDF returns the table's rows as they are stored: its Spark and Arrow types are the table's.
OUTPUT_SCHEMA = DISTINCT_PATHS.schema
_OUTPUT_ARROW = DISTINCT_PATHS.arrow_schema()


def question_representatives(paths: pa.Table, round_: int = 0) -> pa.Table:
    """The correct paths of one question (every model) -> its rows of `rft.distinct_paths`.

    The pools are named for `round_` (`own:<model>@r1`, `union@r1` after round 0); the paths
    may come from several rounds, as a cumulative round's pool holds every earlier round's.
    """
    from rft.filter.equation_dedup import representatives  # imported in the Python worker

    columns = {name: paths.column(name).to_pylist() for name in INPUT_COLUMNS}
    models = columns["model"]
    pools = {union_pool(round_): list(range(len(models)))}
    for i, model in enumerate(models):
        pools.setdefault(own_pool(model, round_), []).append(i)

    out: dict[str, list] = {name: [] for name in _OUTPUT_ARROW.names}
    for pool, rows in sorted(pools.items()):
        groups = representatives(
            [columns["path_id"][i] for i in rows],
            [columns["equation_list"][i] for i in rows],
            [columns["text"][i] for i in rows],
        )
        for group in groups:
            chosen = rows[group.representative]
            members = [rows[m] for m in group.members]
            producers = sorted((models[m], columns["path_id"][m], columns["sample_idx"][m], columns["round"][m])
                               for m in members)
            out["pool"].append(pool)
            out["question_id"].append(columns["question_id"][chosen])
            out["equation_list"].append(group.equation_list)
            out["path_id"].append(columns["path_id"][chosen])
            out["model"].append(models[chosen])
            out["text"].append(columns["text"][chosen])
            out["diversity_score"].append(group.diversity_score)
            out["n_producers"].append(len(members))
            out["producer_models"].append(sorted({producer[0] for producer in producers}))
            out["producers"].append([{"model": m, "path_id": p, "sample_idx": s, "round": r}
                                     for m, p, s, r in producers])
            out["filter_version"].append(FILTER_VERSION)
            out["round"].append(round_)
    return pa.Table.from_pydict(out, schema=_OUTPUT_ARROW)


def representatives_by_question(correct: DataFrame, round_: int = 0) -> DataFrame:
    """Correct paths with their texts -> one row per (pool, question, equation list) of `round_`'s pools."""
    def of_question(paths: pa.Table) -> pa.Table:
        return question_representatives(paths, round_)

    # Each producer's own round (a cumulative pool holds several); rows from before rounds: 0.
    paths_round = F.coalesce(F.col("round"), F.lit(0)) if "round" in correct.columns else F.lit(0)
    correct = correct.withColumn("round", paths_round.cast("int"))
    return correct.select(*INPUT_COLUMNS).groupBy("question_id").applyInArrow(of_question, OUTPUT_SCHEMA)


def distinct_paths(verified: DataFrame, round_: int = 0) -> DataFrame:
    """Rows of `rft.verified_paths` -> rows of `rft.distinct_paths` (correct paths only), in `round_`'s pools."""
    return representatives_by_question(verified.filter(F.col("is_correct")), round_)
