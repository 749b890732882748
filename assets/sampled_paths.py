"""Sampled reasoning paths: k completions per train question from each model's SFT checkpoint."""

import dagster as dg

from rft.rounds.round_plan import round_base_seed
from rft.steps.step_specs import SampleSpec
from rft_dagster.partitions import models_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.imported_paths import imported_models
from spark_jobs.lakehouse import Lakehouse, export_parquet, where_equals, where_model_round
from spark_jobs.path_ids import with_path_ids
from spark_jobs.step_inputs import train_questions


def latest_checkpoint(lake: Lakehouse, model: str, stage: str, training_set: str, seed: int) -> str:
    where = where_equals(model=model, stage=stage, training_set=training_set, seed=str(seed))
    rows = lake.table("models").filter(where).collect()
    if not rows:
        raise dg.Failure(
            f"no {stage} checkpoint of {model!r} ({training_set}, seed {seed}) in rft.models: materialise it first"
        )
    return rows[0]["checkpoint"]


@dg.asset(
    partitions_def=models_partitions, deps=["sft_model"], group_name="sampling", kinds={"pytorch", "delta"},
)
def sampled_paths(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """One row per sampled path: k samples per train question at temperature T, each with its seed."""
    model = context.partition_key
    lake = spark.lakehouse()
    if imported_models(lake, [model]):
        # Writing this partition replaces all its rows: the imported paths would be lost.
        raise dg.Failure(
            f"{model!r} holds generations imported with `rft import`: re-import to update them, "
            "or sample under another model name"
        )
    # With several training seeds, RFT samples come from the first seed's SFT model.
    checkpoint = latest_checkpoint(lake, model, "sft", "sft", settings.config.training_seeds("sft")[0])
    return sample_round(context, settings, lake, steps, model, checkpoint, round_=0)


def sample_round(
    context: dg.AssetExecutionContext, settings: RftSettings, lake: Lakehouse, steps: StepRunner,
    model: str, checkpoint: str, round_: int,
) -> dg.MaterializeResult:
    """k samples per train question from `checkpoint`, written as `model`'s sampled paths of `round_`."""
    cfg = settings.config.sampling
    # A stable folder per model and round, so a killed sampling job resumes from its finished chunks.
    run_dir = settings.paths.run_dir("sample", model) if round_ == 0 else settings.paths.run_dir("sample", model, f"r{round_}")
    export_parquet(train_questions(lake.table("questions")), run_dir / "questions.parquet")
    output = run_dir / "samples.parquet"
    backend = steps.backend_for(cfg.backend)
    spec = SampleSpec(
        checkpoint=checkpoint, questions=str(run_dir / "questions.parquet"),
        k=cfg.k, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens,
        base_seed=round_base_seed(cfg.seed, round_), batch_size=cfg.batch_size, backend=backend,
        vllm_options=cfg.vllm_options, output=str(output), chunk_rows=cfg.resume_chunk_rows,
    )
    reports = steps.run(context, spec, run_dir / "spec.json")
    # "auto" is resolved by the step, which sees the GPU and the model: record what it ran.
    backend = next((r["backend"] for r in reversed(reports) if r.get("backend")), backend)
    rows = with_path_ids(lake.read_parquet(str(output)), model, cfg.temperature, backend, context.run.run_id,
                         round_=round_)
    n = lake.replace("sampled_paths", rows, where_model_round(model, round_))
    return dg.MaterializeResult(
        metadata={"rows": n, "k": cfg.k, "temperature": cfg.temperature, "checkpoint": checkpoint,
                  "backend": backend, "round": round_,
                  # Paths kept from an earlier, killed attempt of this job instead of sampled again.
                  "resumed_paths": sum(int(r.get("n_resumed", 0)) for r in reports),
                  "table_version": lake.version("sampled_paths")}
    )
