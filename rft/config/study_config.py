"""The `studies:` section of the config: which scaling studies to run, over which values.

    studies:
      rft_vs_k: {ks: [1, 3, 6, 12, 25, 50, 100]}   # capped at sampling.k
      sft_vs_data: {fractions: [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0], subset_seed: 0}
      rft_vs_diversity: {selections: [distinct, all_correct, duplicates], n_paths: null}
      pretrain_loss: {corpus: test_gold, max_length: 512}
      union_gain: {enabled: true}

Each value (times each training seed) is one cell: one training run and one greedy
evaluation (for pretrain_loss, one loss measurement; for union_gain, one evaluation the
pipeline already made). Everything else a cell depends on (task, sampling, training and
evaluation settings) is fixed by the rest of the config and recorded with the cell
(rft/studies/cells.py).
"""

from __future__ import annotations

from typing import Literal

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


Selection = Literal["distinct", "all_correct", "duplicates"]
SELECTIONS: list[Selection] = ["distinct", "all_correct", "duplicates"]


class RftVsDiversityStudy(_Strict):
    """RFT on the same number of added paths, chosen distinct, from all correct paths, or duplicated.

    distinct: one path per (question, equation list), the pipeline's dedup; all_correct: any
    correct paths, repeats of one reasoning included; duplicates (the control): a few distinct
    paths, each repeated until the set has the same size.
    """

    enabled: bool = True
    selections: list[Selection] = Field(default_factory=lambda: list(SELECTIONS), min_length=1)
    # Paths added to the SFT data in every cell; None: as many as the model has distinct paths.
    # Capped at that number, so every selection can fill it.
    n_paths: int | None = Field(None, gt=0)
    # The duplicates control repeats ceil(share * n) distinct paths (at least one) until there are n.
    duplicate_share: float = Field(0.25, gt=0, le=1)
    selection_seed: int = 0  # which paths each selection picks (sha256 of seed and path id)
    seeds: list[int] | None = Field(None, min_length=1)  # training seeds; None: rft_training's seed

    @field_validator("selections")
    @classmethod
    def _no_repeats(cls, selections: list[str]) -> list[str]:
        if len(set(selections)) != len(selections):
            raise ValueError(f"each selection once, got {selections}")
        return selections


class PretrainLossStudy(_Strict):
    """Each base model's mean per-token loss on held-out text, against its SFT and RFT accuracy.

    The corpus, test_gold, is the test split's questions with their gold solutions
    (rft.questions): held out from every training set (SFT, RFT and the tiny bases' tokenizers
    read only the train split), shipped with the task, and the same texts for every model.
    """

    enabled: bool = True
    corpus: Literal["test_gold"] = "test_gold"
    max_length: int = Field(512, gt=1)  # tokens per text; longer texts are cut (the paper trains at 512)
    batch_size: int = Field(16, gt=0)


class UnionGainStudy(_Strict):
    """RFT on the model's own distinct paths vs on the union of every model's: the pipeline's evaluations."""

    enabled: bool = True


class StudiesConfig(_Strict):
    rft_vs_k: RftVsKStudy = RftVsKStudy()
    sft_vs_data: SftVsDataStudy = SftVsDataStudy()
    rft_vs_diversity: RftVsDiversityStudy = RftVsDiversityStudy()
    pretrain_loss: PretrainLossStudy = PretrainLossStudy()
    union_gain: UnionGainStudy = UnionGainStudy()
