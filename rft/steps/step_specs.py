"""The JSON spec each external step reads, as typed models: written by the assets and the benches,
read by the steps (`rft.steps.step_io.parse_spec`).

    spec = TrainSpec(base=BaseModelSpec(spec="tiny-llama-a", dir="base"), train_data="train.parquet",
                     output_dir="sft")
    write_spec(spec, "spec.json")                 # what `python -m rft.steps.train --spec spec.json` reads
    read_spec(TrainSpec, "spec.json")             # the same model back; a bad file is a SpecError

Unknown keys are errors (a misspelt option must not be silently ignored), and so are missing or
ill-typed values; the error names the step, the file and the field. Pydantic only: the steps
still import neither Spark nor Dagster, and the code location reads these without torch.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rft.config.train_config import TrainConfig

Backend = Literal["auto", "vllm", "transformers"]  # auto: vLLM where importable (rft.sampling.requests)
# strict: the project's answer rule; reference: the published scripts' (rft/evaluation/reference_scoring.py)
Scoring = Literal["strict", "reference"]


class SpecError(ValueError):
    """A step's spec file is missing, not JSON, or holds unknown, missing or ill-typed fields."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepSpec(_Strict):
    """What every step's spec may hold besides its own fields."""

    step: ClassVar[str]  # the module under rft.steps that reads it
    num_threads: int | None = Field(None, gt=0)  # torch threads; None: all cores (StepRunner sets it)
    asset_key: str | None = None  # for Dagster Pipes multi-assets
    progress: bool = True  # a progress bar on stderr, where the step draws one


class BaseModelSpec(_Strict):
    """The model a step starts from, before any fine-tuning."""

    # Anything rft.models.resolve_model_spec accepts: a ModelSpec dict, a tiny name, a hub id,
    # a folder or a .gguf path.
    spec: dict[str, Any] | str
    # Where a tiny base is saved once (and loaded from afterwards); other bases load from source.
    dir: str | None = None


class TrainSpec(StepSpec):
    """`rft.steps.train`: fine-tune a base on (prompt, response) pairs, save a checkpoint."""

    step: ClassVar[str] = "train"
    base: BaseModelSpec
    # Columns question, answer: read only to build a tiny base that does not exist yet.
    corpus_path: str | None = None
    train_data: str  # columns prompt, response
    train_config: TrainConfig = Field(default_factory=TrainConfig)
    output_dir: str
    seed: int = 0  # initialises a tiny base (the training order is train_config.seed)
    # Resume checkpoints go here (every train_config.checkpoint_every steps), and a restarted
    # step of the same settings goes on from the newest; None: no resume state.
    resume_dir: str | None = None


class SampleSpec(StepSpec):
    """`rft.steps.sample`: k reasoning paths per question with one checkpoint."""

    step: ClassVar[str] = "sample"
    checkpoint: str
    questions: str  # columns question_id, question
    k: int = Field(gt=0)
    temperature: float = Field(ge=0)
    max_new_tokens: int = Field(gt=0)
    base_seed: int = 0  # path (q, j) is seeded with rft.sampling.requests.sample_seed(base_seed, q, j)
    backend: Backend = "auto"
    batch_size: int = Field(64, gt=0)  # transformers: rows decoded at once
    output: str
    chunk_rows: int = Field(1024, gt=0)  # rows per resume chunk (vllm: requests per generate call)
    workers: int | None = Field(None, gt=0)  # None: one per visible GPU, 1 on CPU
    vllm_options: dict[str, Any] = {}  # more vllm.LLM arguments


class EvaluationTarget(_Strict):
    """One checkpoint to evaluate and the Parquet file its rows go to."""

    checkpoint: str
    output: str


class EvaluateSpec(StepSpec):
    """`rft.steps.evaluate`: greedy maj1@1 (and maj1@K) of one or several checkpoints."""

    step: ClassVar[str] = "evaluate"
    # One checkpoint (checkpoint and output) or several (checkpoints), not both.
    checkpoint: str | None = None
    output: str | None = None
    checkpoints: list[EvaluationTarget] | None = Field(None, min_length=1)
    questions: str  # columns question_id, question, gold_answer
    max_new_tokens: int = Field(gt=0)
    batch_size: int = Field(64, gt=0)
    maj_k: int | None = Field(None, gt=1)  # K for maj1@K, sampled at `temperature`; None: greedy only
    temperature: float = Field(0.7, ge=0)  # paper: 0.7 for maj1@K
    seed: int = 0
    scoring: Scoring = "strict"  # which verdict the summary counts; the rows carry both
    backend: Backend = "auto"
    workers: int | None = Field(None, gt=0)
    vllm_options: dict[str, Any] = {}
    chunk_rows: int = Field(1024, gt=0)
    progress: bool = False

    @model_validator(mode="after")
    def _one_way_to_name_checkpoints(self) -> EvaluateSpec:
        single = self.checkpoint is not None or self.output is not None
        if self.checkpoints is not None and single:
            raise ValueError("give either checkpoints, or checkpoint and output, not both")
        if self.checkpoints is None and (self.checkpoint is None or self.output is None):
            raise ValueError("give checkpoint and output (one checkpoint) or checkpoints (several)")
        return self

    @property
    def targets(self) -> list[EvaluationTarget]:
        return self.checkpoints or [EvaluationTarget(checkpoint=self.checkpoint, output=self.output)]


class HeldoutLossSpec(StepSpec):
    """`rft.steps.heldout_loss`: a base model's mean per-token loss on held-out texts."""

    step: ClassVar[str] = "heldout_loss"
    base: BaseModelSpec
    corpus_path: str | None = None  # as in TrainSpec: only to build a tiny base that does not exist yet
    texts: str  # column text
    max_length: int = Field(gt=1)  # tokens per text; longer texts are cut
    batch_size: int = Field(16, gt=0)
    output: str  # a JSON file
    seed: int = 0  # initialises a tiny base, as in TrainSpec


class WorkerJob(_Strict):
    """One job's share of a generation worker (rft.steps.gpu_workers.Job, its requests in a file)."""

    checkpoint: str
    temperature: float
    max_new_tokens: int
    requests: str  # Parquet: the worker's request groups
    parts_dir: str
    label: str


class WorkerBackend(_Strict):
    name: Literal["vllm", "transformers"]
    batch_size: int = 64
    vllm_options: dict[str, Any] | None = None


class WorkerSpec(StepSpec):
    """`rft.steps.gpu_workers`: what the sample and evaluate steps hand each of their workers."""

    step: ClassVar[str] = "gpu_workers"
    jobs: list[WorkerJob]
    backend: WorkerBackend
    worker: int
    chunk_rows: int = Field(gt=0)
    stats: str  # the JSON file the worker's counts go to


def write_spec(spec: StepSpec, path) -> None:
    with open(path, "w") as f:
        f.write(spec.model_dump_json(indent=2))


def read_spec(spec_type: type[StepSpec], path) -> StepSpec:
    """The spec in `path`; a SpecError naming the step, the file and every bad field otherwise."""
    where = f"{spec_type.step} spec {path}"
    try:
        with open(path) as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise SpecError(f"{where}: no such file") from None
    except json.JSONDecodeError as error:
        raise SpecError(f"{where}: not valid JSON ({error})") from None
    try:
        return spec_type.model_validate(raw)
    except ValidationError as error:
        raise SpecError(f"{where}: " + "; ".join(_problem(e) for e in error.errors())) from None


def _problem(error: dict) -> str:
    if not error["loc"]:  # a rule about several fields
        return error["msg"].removeprefix("Value error, ")
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{field}: unknown field"
    if error["type"] == "missing":
        return f"{field}: missing"
    return f"{field}: {error['msg']} (got {error.get('input')!r})"
