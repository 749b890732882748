"""RFT training sets: named selections of distinct paths, each with a reproducible manifest."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.dedup import UNION_POOL, own_pool


@dataclass(frozen=True)
class DatasetSpec:
    """One named training set and the distinct-paths pool it is read from."""

    name: str
    pool: str
    source_models: tuple[str, ...] = field(default_factory=tuple)


def dataset_specs(models: list[str]) -> list[DatasetSpec]:
    """Each model's own paths, plus the union of all models (the paper's RFT-U)."""
    own = [DatasetSpec(name=own_pool(m), pool=own_pool(m), source_models=(m,)) for m in sorted(models)]
    return own + [DatasetSpec(name=UNION_POOL, pool=UNION_POOL, source_models=tuple(sorted(models)))]


def dataset_rows(distinct: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Rows of `rft.rft_dataset_rows` for one training set."""
    return distinct.filter(F.col("pool") == spec.pool).select(
        F.lit(spec.name).alias("dataset"), "question_id", "path_id", "model", "equation_list", "text"
    )
