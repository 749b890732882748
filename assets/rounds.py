"""RFT in rounds: round r+1 samples from round r's RFT model and trains a new one from the base.

Round 0 is the loop of the other asset modules. A later round is one partition of the model x
round grid (`model_rounds_partitions`); its cross-model steps (distinct paths, training sets)
are partitioned by round alone. Each asset calls the same function as its round-0 twin with the
round as an argument, so the two cannot drift apart.

Round r+1's sampling reads round r's RFT checkpoint from rft.models: Dagster cannot declare that
dependency (round_rft_model -> round_sampled_paths would close a loop in the asset graph), so a
missing checkpoint fails with a message naming what to run first.
"""

import dagster as dg

from assets.checkpoints import train_controls_round, train_rft_round
from assets.eval_results import evaluate_round
from assets.filtering import dedup_round, verify_round
from assets.sampled_paths import latest_checkpoint, sample_round
from assets.training_sets import build_training_sets
from rft.evaluation.arms import RFT
from rft.filter.pools import own_pool, union_pool
from rft.rounds.round_plan import rounds_in_training_set, sampling_policy
from rft_dagster.partitions import model_and_round, model_rounds_partitions, rounds_partitions
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.imported_paths import imported_models

ROUNDS_GROUP = "rounds"


def sampling_checkpoint(settings: RftSettings, lake, model: str, round_: int) -> str:
    """The RFT checkpoint that samples `round_`: the previous round's, on the configured set, first seed."""
    _, previous = sampling_policy(round_)
    kind = settings.config.rounds.sample_from
    if kind not in settings.config.rft_training_sets:
        raise dg.Failure(f"rounds.sample_from is {kind!r}, but rft_training_sets {settings.config.rft_training_sets} "
                         f"trains no {kind!r} RFT model to sample from")
    training_set = own_pool(model, previous) if kind == "own" else union_pool(previous)
    seed = settings.config.training_seeds(RFT)[0]
    try:
        return latest_checkpoint(lake, model, RFT, training_set, seed)
    except dg.Failure:
        first = "rft_model" if previous == 0 else f"round {previous} (`rft rounds add {model}`)"
        raise dg.Failure(f"round {round_} of {model!r} samples from its round-{previous} RFT model on "
                         f"{training_set!r} (seed {seed}), which rft.models does not hold: run {first} first") from None


def round_models(context: dg.AssetExecutionContext) -> list[str]:
    """Every model partition; imported ones bring their round-0 paths to the union, as in round 0."""
    return sorted(context.instance.get_dynamic_partitions("models"))


@dg.asset(partitions_def=model_rounds_partitions, deps=["rft_model"], group_name=ROUNDS_GROUP,
          kinds={"pytorch", "delta"})
def round_sampled_paths(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """k samples per train question from the previous round's RFT model (rft.sampled_paths, this round)."""
    model, round_ = model_and_round(context)
    lake = spark.lakehouse()
    if imported_models(lake, [model]):
        raise dg.Failure(f"{model!r} holds imported generations: there is no model of it to sample a round from")
    checkpoint = sampling_checkpoint(settings, lake, model, round_)
    return sample_round(context, settings, lake, steps, model, checkpoint, round_)


@dg.asset(partitions_def=model_rounds_partitions, deps=["round_sampled_paths"], group_name=ROUNDS_GROUP,
          kinds={"spark", "delta"})
def round_verified_paths(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
    """This round's sampled paths of one model, each with its verdict (rft.verified_paths)."""
    model, round_ = model_and_round(context)
    return verify_round(spark.lakehouse(), model, round_)


@dg.asset(partitions_def=rounds_partitions, deps=["round_verified_paths", "distinct_paths"],
          group_name=ROUNDS_GROUP, kinds={"spark", "delta"})
def round_distinct_paths(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource
) -> dg.MaterializeResult:
    """The round's pools (own:<model>@r<r>, union@r<r>): distinct paths of rounds 0..r, or of r alone."""
    round_ = int(context.partition_key)
    lake = spark.lakehouse()
    path_rounds = rounds_in_training_set(round_, settings.config.rounds.paths)
    return dedup_round(lake, round_models(context), round_, path_rounds)


@dg.asset(partitions_def=rounds_partitions, deps=["round_distinct_paths"], group_name=ROUNDS_GROUP,
          kinds={"spark", "delta"})
def round_rft_datasets(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource
) -> dg.MaterializeResult:
    """The round's RFT sets and their manifests, pinned to Delta versions (rft.rft_datasets)."""
    round_ = int(context.partition_key)
    lake = spark.lakehouse()
    sampled_rounds = rounds_in_training_set(round_, settings.config.rounds.paths)
    return build_training_sets(context, lake, round_models(context), round_, sampled_rounds)


@dg.asset(partitions_def=model_rounds_partitions, deps=["round_rft_datasets"], group_name=ROUNDS_GROUP,
          kinds={"pytorch", "delta"})
def round_rft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """The base model trained on the SFT data plus the round's RFT sets, once per seed (rft.models)."""
    model, round_ = model_and_round(context)
    return train_rft_round(context, settings, spark.lakehouse(), steps, model, round_)


@dg.asset(partitions_def=model_rounds_partitions, deps=["round_rft_model"], group_name=ROUNDS_GROUP,
          kinds={"pytorch", "delta"})
def round_matched_sft_model(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """For each of the round's RFT checkpoints, the SFT data alone for exactly its steps, from the base."""
    model, round_ = model_and_round(context)
    return train_controls_round(context, settings, spark.lakehouse(), steps, model, round_)


@dg.asset(partitions_def=model_rounds_partitions, deps=["round_rft_model", "round_matched_sft_model"],
          group_name=ROUNDS_GROUP, kinds={"pytorch", "delta"})
def round_eval_results(
    context: dg.AssetExecutionContext, settings: RftSettings, spark: SparkResource, steps: StepRunner
) -> dg.MaterializeResult:
    """Test accuracy of the round's RFT checkpoints and their controls (rft.eval_results, this round)."""
    model, round_ = model_and_round(context)
    return evaluate_round(context, settings, spark.lakehouse(), steps, model, round_)

