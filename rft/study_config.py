"""The `studies:` section of the config: which scaling studies to run, over which values.

    studies:
      rft_vs_k: {ks: [1, 3, 6, 12, 25, 50, 100]}   # capped at sampling.k
      sft_vs_data: {fractions: [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0], subset_seed: 0}

Each value (times each training seed) is one cell: one training run and one greedy
evaluation. Everything else a cell depends on (task, sampling, training and evaluation
settings) is fixed by the rest of the config and recorded with the cell (rft/studies.py).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

PAPER_KS = [1, 3, 6, 12, 25, 50, 100]
HALVINGS = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RftVsKStudy(_Strict):
    """RFT on the distinct paths among each train question's first k samples, for each k."""

    enabled: bool = True
    ks: list[int] = Field(default_factory=lambda: list(PAPER_KS), min_length=1)  # capped at sampling.k
    # Training seeds: one cell per (k, seed). None: rft_training's seed alone.
    seeds: list[int] | None = Field(None, min_length=1)

    @field_validator("ks")
    @classmethod
    def _positive(cls, ks: list[int]) -> list[int]:
        if any(k <= 0 for k in ks):
            raise ValueError(f"every k must be > 0, got {ks}")
        return ks


class SftVsDataStudy(_Strict):
    """SFT on nested fractions of the train split: each smaller set is part of every larger one."""

    enabled: bool = True
    fractions: list[float] = Field(default_factory=lambda: list(HALVINGS), min_length=1)
    subset_seed: int = 0  # orders the questions; a fraction takes the first share of that order
    seeds: list[int] | None = Field(None, min_length=1)  # training seeds; None: sft_training's seed

    @field_validator("fractions")
    @classmethod
    def _in_unit_interval(cls, fractions: list[float]) -> list[float]:
        if any(not 0 < f <= 1 for f in fractions):
            raise ValueError(f"every fraction must be in (0, 1], got {fractions}")
        return fractions


class StudiesConfig(_Strict):
    rft_vs_k: RftVsKStudy = RftVsKStudy()
    sft_vs_data: SftVsDataStudy = SftVsDataStudy()
