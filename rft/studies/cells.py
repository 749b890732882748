"""The cells of each scaling study and their ids: what a cell trains on is fixed by its settings.

    spec = asdict(catalog.spec("tiny-llama-a"))            # what the name resolves to (rft.models.catalog)
    cells = rft_vs_k_cells(config, "tiny-llama-a", spec)   # one per (k capped at sampling.k, seed), then
                                                           # each one's step-matched SFT control (arm sft_matched)
    cells[0].cell_id, cells[0].x, cells[0].settings
    rft_vs_diversity_cells(config, model, spec)            # one per (selection, seed): `arm` names it
    pretrain_loss_cell(config, model, spec)                # the base model's held-out loss
    union_gain_cells(model, spec, evaluations)             # own and union: evaluations already made

A cell's id is the sha1 of its settings as canonical JSON: the study, the model and its spec,
the value that varies, the training seed, and everything held fixed (task, the sampling run it
reads, training and evaluation settings, filter version). A finished cell with the same id is
reused; change any setting and the cell is new, while the old row stays as the record of
what the old settings gave.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from rft.config.rft_config import RftConfig
from rft.filter.path_verdict import FILTER_VERSION

RFT_VS_K = "rft_vs_k"
SFT_VS_DATA = "sft_vs_data"
RFT_VS_DIVERSITY = "rft_vs_diversity"
PRETRAIN_LOSS = "pretrain_loss"
UNION_GAIN = "union_gain"
EVAL_METRIC = "maj1@1"  # greedy, the paper's headline metric
# A step-matched SFT control cell: the SFT data alone, for the optimizer steps of the RFT cell it matches.
SFT_MATCHED_ARM = "sft_matched"


@dataclass(frozen=True)
class StudyCell:
    """One training run and its evaluation (or one measurement): `x` is the value that varies.

    Numeric studies vary x (k, a data fraction). Categorical ones compare named settings,
    `arm` (a selection of paths; own or union), and leave x to the row: the paths added, or
    the distinct paths of the set. A pretrain_loss cell's x is the loss it measures.
    """

    study: str
    model: str
    varies: str  # the name of x: "k", "fraction", "selection", "training_set" or "loss"
    x: float | None  # None where the row's x is measured, not chosen
    seed: int | None  # training seed; None where nothing is trained
    fixed: dict  # every other setting the result depends on
    arm: str | None = None
    matches: str | None = None  # a step-matched control's RFT cell (its id): the steps it trains for


    @property
    def settings(self) -> dict:
        settings = {"study": self.study, "model": self.model, "varies": self.varies, "x": self.x,
                    "seed": self.seed, "fixed": self.fixed}
        # Only categorical cells carry an arm: the ids of the numeric studies' cells stay as they were.
        # A control's `matches` sits beside `fixed`, which it shares with its RFT cell (the marts
        # and latest_settings group one study run's cells by `fixed`).
        settings = settings if self.arm is None else {**settings, "arm": self.arm}
        return settings if self.matches is None else {**settings, "matches": self.matches}

    @property
    def settings_json(self) -> str:
        return json.dumps(self.settings, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def cell_id(self) -> str:
        return hashlib.sha1(self.settings_json.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        if self.matches is not None and self.x is not None:
            x = int(self.x) if self.varies == "k" else f"{self.x:g}"
            return f"{self.varies}={x} seed={self.seed} {self.arm}"
        if self.arm is not None:
            return f"{self.varies}={self.arm} seed={self.seed}"
        if self.x is None:
            return f"{self.varies} of {self.model}"
        x = int(self.x) if self.varies == "k" else f"{self.x:g}"
        return f"{self.varies}={x} seed={self.seed}"


def _fixed(config: RftConfig, stage: str, model_spec: dict | None) -> dict:
    train = asdict(config.train_config(stage))
    train.pop("seed")  # the cell's own setting
    train.pop("checkpoint_every")  # how often resume state is saved: not what is trained, nor a new cell
    return {
        "model_spec": model_spec,  # what the partition's name resolves to: a name re-pointed is a new cell
        "task": config.task.model_dump(),
        "training": train,
        "evaluation": {"metric": EVAL_METRIC, "max_new_tokens": config.evaluation.max_new_tokens},
    }


def _seeds(seeds: list[int] | None, config: RftConfig, stage: str) -> list[int]:
    return sorted(set(seeds)) if seeds else [config.train_config(stage).seed]


def capped_ks(ks: list[int], k_sampled: int) -> list[int]:
    """The study's k values, those above the samples drawn taken as all of them."""
    return sorted({min(k, k_sampled) for k in ks})


def _sampling(config: RftConfig) -> dict:
    sampling = config.sampling
    return {"k": sampling.k, "temperature": sampling.temperature, "max_new_tokens": sampling.max_new_tokens,
            "seed": sampling.seed}


def rft_vs_k_cells(config: RftConfig, model: str, model_spec: dict | None = None) -> list[StudyCell]:
    """RFT on SFT data + the distinct paths among each question's first k samples (own paths)."""
    study = config.studies.rft_vs_k
    sampling = config.sampling
    fixed = {
        **_fixed(config, "rft", model_spec),
        "sampling": _sampling(config),
        "filter_version": FILTER_VERSION,
        "selection": "SFT data + own distinct paths among the first k samples per train question",
    }
    cells = [
        StudyCell(RFT_VS_K, model, "k", k, seed, fixed)
        for k in capped_ks(study.ks, sampling.k) for seed in _seeds(study.seeds, config, "rft")
    ]
    return cells + ([matched_control(c) for c in cells] if config.matched_sft_controls else [])


def sft_vs_data_cells(config: RftConfig, model: str, model_spec: dict | None = None) -> list[StudyCell]:
    """SFT on nested fractions of the train split's gold solutions."""
    study = config.studies.sft_vs_data
    fixed = {**_fixed(config, "sft", model_spec), "subset_seed": study.subset_seed,
             "selection": "gold solutions of the first fraction of train questions in subset_seed's order"}
    return [
        StudyCell(SFT_VS_DATA, model, "fraction", fraction, seed, fixed)
        for fraction in sorted(set(study.fractions)) for seed in _seeds(study.seeds, config, "sft")
    ]


def rft_vs_diversity_cells(config: RftConfig, model: str, model_spec: dict | None = None) -> list[StudyCell]:
    """RFT on SFT data + n own correct paths, chosen per selection (spark_jobs/study_selection.py)."""
    study = config.studies.rft_vs_diversity
    fixed = {
        **_fixed(config, "rft", model_spec),
        "sampling": _sampling(config),
        "filter_version": FILTER_VERSION,
        "n_paths": study.n_paths,  # None: as many as the model's distinct paths
        "duplicate_share": study.duplicate_share,
        "selection_seed": study.selection_seed,
        "selection": "SFT data + n of the model's own correct paths, the same n for every selection",
    }
    cells = [
        StudyCell(RFT_VS_DIVERSITY, model, "selection", None, seed, fixed, arm=selection)
        for selection in study.selections for seed in _seeds(study.seeds, config, "rft")
    ]
    if not config.matched_sft_controls:
        return cells
    # Every selection adds the same n paths, so all of a seed's cells take the same steps: one
    # control per seed, matching the seed's first selection, stands for them all.
    first = {}
    for cell in cells:
        first.setdefault(cell.seed, cell)
    return cells + [matched_control(c) for c in first.values()]


def matched_control(cell: StudyCell) -> StudyCell:
    """The step-matched SFT control of an RFT cell: its settings and seed, the SFT data alone, for
    exactly the optimizer steps the RFT cell took (read from its row when the control is trained).

    Its id follows from the RFT cell's (`matches`), so a changed RFT cell gets a new control.
    """
    return StudyCell(cell.study, cell.model, cell.varies, cell.x, cell.seed, cell.fixed, arm=SFT_MATCHED_ARM,
                     matches=cell.cell_id)


def is_control(cell: StudyCell) -> bool:
    return cell.arm == SFT_MATCHED_ARM


def pretrain_loss_cell(config: RftConfig, model: str, model_spec: dict | None = None) -> StudyCell:
    """The base model's mean per-token loss on the held-out corpus (no training)."""
    study = config.studies.pretrain_loss
    fixed = {
        "model_spec": model_spec,
        # The task decides the corpus (the test split) and, for tiny models, the base's weights
        # and tokenizer (built from the train split with the task's seed).
        "task": config.task.model_dump(),
        "corpus": {"name": study.corpus, "max_length": study.max_length,
                   "text": "question, a blank line, the gold solution; every token scored but the first"},
    }
    return StudyCell(PRETRAIN_LOSS, model, "loss", None, None, fixed)


def pretrain_loss_cells(config: RftConfig, model: str, model_spec: dict | None = None) -> list[StudyCell]:
    """The one pretrain_loss cell, as a list like every other study's cells."""
    return [pretrain_loss_cell(config, model, model_spec)]


def union_gain_cells(model: str, model_spec: dict | None, evaluations: dict[str, dict]) -> list[StudyCell]:
    """One cell per arm (own, union): the pipeline's evaluation of the RFT checkpoint on that set.

    `evaluations` maps each arm to what identifies its result: the checkpoint, its training
    config (with the seed) and set manifest, and the evaluation's run. Nothing is trained, so a
    cell is new exactly when either checkpoint or either evaluation is.
    """
    fixed = {"model_spec": model_spec, "metric": EVAL_METRIC, "evaluations": evaluations}
    return [
        StudyCell(UNION_GAIN, model, "training_set", None, evaluations[arm]["train_config"].get("seed"), fixed, arm=arm)
        for arm in ("own", "union")
    ]


def missing_cells(cells: list[StudyCell], finished_ids: set[str]) -> list[StudyCell]:
    """The cells whose id has no row yet: the only ones a re-materialisation computes."""
    return [cell for cell in cells if cell.cell_id not in finished_ids]
