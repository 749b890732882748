"""How many rounds of RFT to run, and which distinct paths each round's training set holds.

Round 0 is the paper's method: sample from the SFT model, train RFT on the SFT data plus the
distinct correct paths. Round r+1 samples again, from round r's RFT model, and trains a new
RFT model from the base. The default of one round is the paper's setting.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RoundsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # 1: the paper (no iteration). STaR and ReST-EM report gains in the first two or three rounds
    # and overfitting after, so a handful is the useful range.
    n_rounds: int = Field(1, ge=1, le=20)
    # Round r's training set: the SFT data plus the distinct paths of rounds 0..r (cumulative),
    # or of round r alone (last). Cumulative keeps every path found so far, as ReST-EM does not
    # and STaR does; "last" is the ablation that tells the two apart.
    paths: Literal["cumulative", "last"] = "cumulative"
    # Which of round r's RFT models samples round r+1: the one trained on the model's own paths
    # (expert iteration on itself), or the one trained on the union of every model's.
    sample_from: Literal["own", "union"] = "own"
