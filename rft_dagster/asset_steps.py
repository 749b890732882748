"""What several assets do alike: launch the train, evaluate and held-out-loss steps.

Asset modules do not import each other (`.importlinter`); what two of them share lives here.
Each function writes a step's inputs under the run's folder, builds the step's typed spec
(rft/steps/step_specs.py) and launches the step through the `steps` resource.
"""

import json
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pandas as pd

from rft.config.train_config import TrainConfig
from rft.evaluation.arms import grades_text
from rft.evaluation.reference_scoring import correct_column
from rft.evaluation.scoring import accuracy_summary
from rft.steps.step_specs import (
    BaseModelSpec,
    EvaluateSpec,
    EvaluationTarget,
    HeldoutLossSpec,
    TrainSpec,
)
from rft_dagster.resources import RftSettings, StepRunner
from spark_jobs.lakehouse import Lakehouse, export_parquet
from spark_jobs.step_inputs import base_corpus, heldout_corpus, test_questions


def model_spec(settings: RftSettings, model: str) -> dict:
    """What the partition's name resolves to (tiny config, hub id, folder, GGUF file): part of a cell's settings."""
    return asdict(settings.catalog.spec(model))


def base_dir(settings: RftSettings, model: str) -> Path:
    """Where the model's tiny base is saved (other bases load from their source)."""
    return settings.paths.checkpoints / model / "base"


def base_model(
    settings: RftSettings, lake: Lakehouse, model: str, run_dir: Path, questions_version: int | None = None,
) -> tuple[BaseModelSpec, str | None]:
    """The model's base as a step reads it, and the corpus a tiny base is built from (None once built).

    A tiny base is created once, by the first step that needs it, in checkpoints/<model>/base, so SFT,
    every RFT run and the held-out loss start from the same weights and tokenizer. Its corpus is
    exported only while there is none (a query and a file less per step afterwards).
    """
    folder = base_dir(settings, model)
    corpus_path = None
    if not (folder / "config.json").exists():
        corpus_path = str(run_dir / "corpus.parquet")
        export_parquet(base_corpus(lake.table("questions", questions_version)), corpus_path)
    return BaseModelSpec(spec=model_spec(settings, model), dir=str(folder)), corpus_path


def train_step(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, examples: pd.DataFrame, train_config: TrainConfig, run_dir: Path, output_dir: Path, model: str | None = None,
) -> dict:
    """Fine-tune `model`'s base (default: the partition's model) on `examples` in the external train step.

    `run_dir` is `<what is trained>/<run id>`: the resume state lies beside it, in
    `<what is trained>/resume`, so a re-execution (a new run id) of a killed run finds it. The
    step resumes only state of the same train config, data and base (one folder per fingerprint).
    """
    examples.to_parquet(run_dir / "train.parquet", index=False)
    base, corpus_path = base_model(settings, lake, model or context.partition_key, run_dir)
    spec = TrainSpec(
        base=base, corpus_path=corpus_path, train_data=str(run_dir / "train.parquet"), train_config=train_config,
        output_dir=str(output_dir), seed=settings.config.task.seed, resume_dir=str(run_dir.parent / "resume"),
    )
    steps.run(context, spec, run_dir / "spec.json")
    return json.loads((output_dir / "train_stats.json").read_text())


def evaluate_checkpoints(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    checkpoints: list[str], run_dir: Path, *, names: list[str], maj_k: int | None,
) -> list[dict[str, dict]]:
    """Each checkpoint's {metric: accuracy_summary + grades} on the test split, from one evaluate step."""
    cfg = settings.config.evaluation
    export_parquet(test_questions(lake.table("questions")), run_dir / "questions.parquet")
    targets = [EvaluationTarget(checkpoint=c, output=str(run_dir / f"{name}.parquet"))
               for c, name in zip(checkpoints, names)]
    spec = EvaluateSpec(
        checkpoints=targets, questions=str(run_dir / "questions.parquet"),
        max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, maj_k=maj_k,
        temperature=cfg.temperature, seed=cfg.seed, scoring=cfg.scoring,
        backend=steps.backend_for(cfg.backend), vllm_options=cfg.vllm_options,
    )
    steps.run(context, spec, run_dir / "spec.json")
    results = []
    column = correct_column(cfg.scoring)
    for target in targets:
        predictions = pd.read_parquet(target.output)
        results.append({
            metric: {**accuracy_summary(group.to_dict("records"), column),
                     # per question, in question_id order, for paired tests between checkpoints
                     "grades": grades_text(group.sort_values("question_id")[column])}
            for metric, group in predictions.groupby("metric")
        })
    return results


def heldout_loss_step(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    *, run_dir: Path, questions_version: int,
) -> dict:
    """The partition's base model's loss on the test split's gold solutions, from the heldout_loss step."""
    study = settings.config.studies.pretrain_loss
    heldout_corpus(lake.table("questions", questions_version)).to_parquet(run_dir / "heldout.parquet", index=False)
    base, corpus_path = base_model(settings, lake, context.partition_key, run_dir, questions_version)
    spec = HeldoutLossSpec(
        base=base, corpus_path=corpus_path, texts=str(run_dir / "heldout.parquet"), max_length=study.max_length,
        batch_size=study.batch_size, output=str(run_dir / "heldout_loss.json"), seed=settings.config.task.seed,
    )
    steps.run(context, spec, run_dir / "spec.json")
    return json.loads((run_dir / "heldout_loss.json").read_text())
