"""The scaling studies, one object each: what varies, its cells, the fits it claims, its figure and tables.

    study = find_study("rft_vs_k")                 # an unknown name is an UnknownStudy listing the known ones
    cells = study.cells_for(config, model, spec)   # [] where the config turns the study off
    view = study.view(points)                      # view.entries (JSON figures), view.png, view.table
    for study in STUDIES: ...                      # in the order reports show them

`points` are a study's `rft.study_results` rows (the newest settings' cells, rft.studies.study_summary
latest_settings). pretrain_loss is the one study across models: its view also needs `accuracies`,
every model's SFT and RFT accuracy (spark_jobs.study_accuracy.stage_accuracies).

Everything a caller does differently per study is a field here, so the Dagster assets, `rft report`
and `rft studies show` never test a study's name. The registry sits at the reporting layer because
it binds each study to its figure (rft.reporting above rft.studies); it is pure pandas and matplotlib.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd
from pydantic import BaseModel

from rft.config.rft_config import RftConfig
from rft.reporting.comparison_plots import diversity_plot, pretrain_loss_plot, union_gain_plot
from rft.reporting.study_plots import rft_vs_k_plot, sft_vs_data_plot
from rft.reporting.study_tables import (
    arm_record_rows, curve_record_rows, curve_table, diversity_table, pretrain_record_rows, pretrain_table,
    union_gain_table,
)
from rft.studies.cells import (
    PRETRAIN_LOSS, RFT_VS_DIVERSITY, RFT_VS_K, SFT_VS_DATA, UNION_GAIN, StudyCell, pretrain_loss_cells,
    rft_vs_diversity_cells, rft_vs_k_cells, sft_vs_data_cells,
)
from rft.studies.contrasts import diversity_figures, union_gain_figures
from rft.studies.pretrain_loss import comparable_losses, pretrain_figures, pretrain_points
from rft.studies.study_summary import rft_vs_k_figures, rft_vs_k_fits, sft_vs_data_figures, sft_vs_data_fits

CellMaker = Callable[[RftConfig, str, dict | None], list[StudyCell]]


@dataclass
class StudyView:
    entries: list[dict]  # figures: the JSON of rft studies show --record
    png: bytes
    table: pd.DataFrame  # one row per cell, for people
    left_out: dict[str, str] = field(default_factory=dict)  # model -> why it is not in the study


class UnknownStudy(ValueError):
    pass


@dataclass(frozen=True)
class Study(ABC):
    """What every study has: a name, what varies, its cells, the fits its figures carry, how it prints."""

    name: str  # also its section of the config (`studies:`) and its rows' `study`
    varies: str  # the name of x in its cells
    fits: tuple[str, ...]  # the laws or differences each of its figures carries ("fits" of an entry)
    caption: str  # what its figure and table show, for people
    # (config, model, model spec) -> the cells the config asks for; None where the cells are the
    # pipeline's own evaluations (union_gain: rft.studies.cells.union_gain_cells).
    cells: CellMaker | None
    record_rows: Callable[[dict], list[dict]]  # a recorded figure's cells, as `rft studies show` prints them

    across_models: ClassVar[bool] = False  # one figure of every model (needs their accuracies)

    def settings(self, config: RftConfig) -> BaseModel:
        """Its section of the config's `studies:` (what it declares, whether it is enabled)."""
        return getattr(config.studies, self.name)

    def cells_for(self, config: RftConfig, model: str, model_spec: dict | None) -> list[StudyCell]:
        """The cells the config asks of `model`; none when the study is turned off."""
        if self.cells is None:
            raise ValueError(f"{self.name}'s cells are the pipeline's own evaluations: union_gain_cells")
        return self.cells(config, model, model_spec) if self.settings(config).enabled else []

    @abstractmethod
    def figures(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> list[dict]:
        """Its figures as JSON-able entries (what `rft studies show --record` writes)."""

    @abstractmethod
    def view(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> StudyView:
        """Its figures, the PNG drawn from them and its cells table."""


@dataclass(frozen=True)
class PerModelStudy(Study):
    """A study with one figure per model, drawn from that model's cells alone."""

    entries: Callable[[pd.DataFrame], list[dict]]  # one JSON-able figure per model, with its fits
    plot: Callable[[pd.DataFrame, list[dict]], bytes]  # (points, entries) -> PNG
    table: Callable[[pd.DataFrame], pd.DataFrame]

    def figures(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> list[dict]:
        """Its figures; `accuracies` are not read (each model's cells hold their own)."""
        return self.entries(points) if not points.empty else []

    def view(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> StudyView:
        entries = self.figures(points)
        return StudyView(entries, self.plot(points, entries), self.table(points))


@dataclass(frozen=True)
class AcrossModelsStudy(Study):
    """pretrain_loss: each model's newest loss cell, measured alike, against its SFT and RFT accuracy."""

    across_models: ClassVar[bool] = True

    def _joined(self, points: pd.DataFrame, accuracies: pd.DataFrame | None):
        if accuracies is None:
            raise ValueError(f"{self.name} sets every model's cell against its accuracies: pass them")
        losses, left_out = comparable_losses(points)
        joined = pretrain_points(losses, accuracies) if not losses.empty else pd.DataFrame(
            columns=["model", "loss", "n_params", "n_tokens", "cell_id", "stage"])
        return losses, left_out, joined

    def figures(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> list[dict]:
        losses, _, joined = self._joined(points, accuracies)
        return pretrain_figures(joined, losses)

    def view(self, points: pd.DataFrame, accuracies: pd.DataFrame | None = None) -> StudyView:
        losses, left_out, joined = self._joined(points, accuracies)
        entries = pretrain_figures(joined, losses)
        return StudyView(entries, pretrain_loss_plot(entries), pretrain_table(losses, joined), left_out)


def _rft_vs_k_png(points: pd.DataFrame, entries: list[dict]) -> bytes:
    return rft_vs_k_plot(points, rft_vs_k_fits(points))


def _sft_vs_data_png(points: pd.DataFrame, entries: list[dict]) -> bytes:
    return sft_vs_data_plot(points, {m: f["n_sft_rows"] for m, f in sft_vs_data_fits(points).items()})


STUDIES: tuple[Study, ...] = (
    PerModelStudy(
        RFT_VS_K, varies="k", fits=("k", "distinct_paths"), cells=rft_vs_k_cells, record_rows=curve_record_rows,
        entries=rft_vs_k_figures, plot=_rft_vs_k_png, table=curve_table,
        caption="RFT on SFT data + own distinct paths among the first k samples per question; dashed: "
                "fitted a + b ln k and a + b * paths.",
    ),
    PerModelStudy(
        SFT_VS_DATA, varies="fraction", fits=("n_sft_rows",), cells=sft_vs_data_cells, record_rows=curve_record_rows,
        entries=sft_vs_data_figures, plot=_sft_vs_data_png, table=curve_table,
        caption="SFT on nested fractions of the train split; dashed: the fitted law a + b ln(examples).",
    ),
    PerModelStudy(
        RFT_VS_DIVERSITY, varies="selection", fits=("distinct_minus_all_correct", "distinct_minus_duplicates",
                                                    "distinct_minus_sft_matched", "distinct_paths"),
        cells=rft_vs_diversity_cells, record_rows=arm_record_rows, entries=diversity_figures, plot=diversity_plot,
        table=diversity_table,
        caption="RFT on SFT data + the same number of own correct paths, chosen distinct (one per equation "
                "list), from all correct paths, or as a few distinct paths repeated; numbers on the bars: "
                "distinct paths among them; sft_matched: the SFT data alone for the same optimizer steps.",
    ),
    AcrossModelsStudy(
        PRETRAIN_LOSS, varies="loss", fits=("loss", "log_params"), cells=pretrain_loss_cells,
        record_rows=pretrain_record_rows,
        caption="Each base model's mean per-token loss on the test split's gold solutions (held out from all "
                "training) against its SFT and RFT (own paths) accuracy; dashed: least-squares lines with "
                "Pearson's r.",
    ),
    PerModelStudy(
        UNION_GAIN, varies="training_set", fits=("gain",), cells=None, record_rows=arm_record_rows,
        entries=union_gain_figures, plot=union_gain_plot, table=union_gain_table,
        caption="The pipeline's RFT checkpoints on the model's own distinct paths and on the union of every "
                "model's; gain with a 95% interval (Newcombe).",
    ),
)
_BY_NAME = {study.name: study for study in STUDIES}


def find_study(name: str) -> Study:
    """The study called `name`; an UnknownStudy naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownStudy(f"unknown study {name!r}: the studies are {', '.join(_BY_NAME)}") from None
