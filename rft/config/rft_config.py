"""The pipeline's settings, with the paper's values as defaults.

A run is configured by one YAML file (`configs/demo.yaml` for the embedded CPU demo,
`configs/gsm8k.yaml` for a real run); every field not given keeps the default below.
Unknown fields and impossible values (k <= 0, temperature < 0, ...) are errors before any
work starts.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rft.config.rounds_config import RoundsConfig
from rft.config.study_config import StudiesConfig
from rft.config.train_config import TrainConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskConfig(_Strict):
    """Where the questions come from."""

    source: Literal["embedded", "jsonl"] = "embedded"
    train_path: str | None = None  # GSM8K-format JSONL (question, answer) when source is jsonl
    test_path: str | None = None
    limit_train: int | None = Field(None, gt=0)  # first N questions only (smoke runs)
    limit_test: int | None = Field(None, gt=0)
    n_train: int = Field(2000, gt=0)  # embedded task size
    n_test: int = Field(500, gt=0)
    difficulty: Literal["standard", "easy"] = "standard"  # embedded task: easy = single-digit operands
    seed: int = 0


class SamplingConfig(_Strict):
    """Rejection sampling: k paths per train question at temperature T (paper: k=100, T=0.7)."""

    k: int = Field(100, gt=0)
    temperature: float = Field(0.7, ge=0)
    max_new_tokens: int = Field(256, gt=0)
    batch_size: int = Field(64, gt=0)  # transformers: rows decoded at once
    # auto: the fastest engine for the model where the step runs (docs/gpu.md): the static engine
    # on a GPU for Llama/Qwen2 models, else vLLM where the step can run it, else transformers.
    backend: Literal["auto", "vllm", "transformers"] = "auto"
    vllm_options: dict[str, Any] = {}  # more vllm.LLM arguments: dtype, max_num_seqs, ...
    seed: int = 0
    # Finished rows are saved in chunks of this many, so a killed sampling job resumes from the
    # last chunk; it does not change the texts.
    resume_chunk_rows: int = Field(1024, gt=0)


class EvalConfig(_Strict):
    """Test-split evaluation: greedy maj1@1, plus maj1@K when maj_k is set."""

    max_new_tokens: int = Field(256, gt=0)
    batch_size: int = Field(64, gt=0)
    maj_k: int | None = Field(None, gt=1)
    temperature: float = Field(0.7, ge=0)
    seed: int = 0
    # Which answer rule counts in rft.eval_results: strict (the project's: the whole line after the
    # last ####) or reference (the published scripts': leading number after the first ####, within
    # 1e-4). The evaluate step's rows record both verdicts either way (docs/verification.md, section 10).
    scoring: Literal["strict", "reference"] = "strict"
    backend: Literal["auto", "vllm", "transformers"] = "auto"  # as for sampling
    vllm_options: dict[str, Any] = {}


class RftConfig(_Strict):
    task: TaskConfig = TaskConfig()
    sampling: SamplingConfig = SamplingConfig()
    evaluation: EvalConfig = EvalConfig()
    sft_training: dict[str, Any] = {}  # TrainConfig fields; unset ones keep the paper's values
    rft_training: dict[str, Any] = {}
    rft_training_sets: list[Literal["own", "union"]] = ["own", "union"]
    models: dict[str, dict[str, Any]] = {}  # name -> ModelSpec fields, for hub/local/GGUF models
    default_models: list[str] = ["tiny-llama-a", "tiny-llama-b"]  # what `rft demo` adds
    studies: StudiesConfig = StudiesConfig()  # scaling studies (rft/config/study_config.py)
    # Every RFT checkpoint gets an SFT control trained on the SFT data alone for exactly its
    # optimizer steps (stage `sft_matched`): RFT trains on more rows for the same epochs, so
    # without it a gain over SFT cannot be told from more training.
    matched_sft_controls: bool = True
    # Each trained cell (SFT, each RFT set, each matched control) is trained once per seed:
    # train_config seed + 0 .. n_seeds-1 (`training_seeds`). RFT samples from the first seed's SFT.
    n_seeds: int = Field(1, ge=1, le=100)
    # RFT in rounds: round r+1 samples from round r's RFT model (rft/config/rounds_config.py).
    rounds: RoundsConfig = RoundsConfig()

    @field_validator("sft_training", "rft_training")
    @classmethod
    def _known_train_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        TrainConfig(**value)  # raises TypeError on unknown fields
        return value

    def train_config(self, stage: Literal["sft", "rft"]) -> TrainConfig:
        return TrainConfig(**(self.sft_training if stage == "sft" else self.rft_training))

    def training_seeds(self, stage: Literal["sft", "rft"]) -> list[int]:
        """The stage's training seeds: its train_config seed, then the next n_seeds - 1 integers."""
        first = self.train_config(stage).seed
        return [first + i for i in range(self.n_seeds)]


class ConfigError(ValueError):
    """The configuration file is missing, malformed or holds impossible values."""


def load_config(path: str | Path | None) -> RftConfig:
    if path is None:
        return RftConfig()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        config = RftConfig(**raw)
    except (ValidationError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    # Data paths in a config file are relative to the file, not to wherever the command runs.
    for name in ("train_path", "test_path"):
        value = getattr(config.task, name)
        if value and not Path(value).is_absolute():
            setattr(config.task, name, str((path.parent / value).resolve()))
    return config


def train_config_fields() -> list[str]:
    return [f.name for f in fields(TrainConfig)]
