"""The code location: every asset family, the jobs, and the resources. Wiring only."""

import dagster as dg

from assets import (
    checkpoints, eval_results, evaluation_studies, filtering, marts, questions, rounds, sampled_paths,
    training_sets, training_studies,
)
from rft_dagster.dbt_project import dbt_resource
from rft_dagster.resources import default_resources

all_assets = dg.load_assets_from_modules(
    [questions, checkpoints, sampled_paths, filtering, training_sets, eval_results, training_studies,
     evaluation_studies, marts, rounds]
)

questions_job = dg.define_asset_job(
    "questions_job", selection=dg.AssetSelection.assets("questions"),
    description="Load the task's train and test questions into rft.questions.",
)
per_model_job = dg.define_asset_job(
    "per_model_job", selection=dg.AssetSelection.assets("sft_model", "sampled_paths", "verified_paths"),
    description="One model's SFT, sampling and verification; a new model's backfill is this job for its key.",
)
verify_job = dg.define_asset_job(
    "verify_job", selection=dg.AssetSelection.assets("verified_paths"),
    description="Verification of one model's paths alone: what `rft import` runs for an imported model.",
)
cross_model_job = dg.define_asset_job(
    "cross_model_job", selection=dg.AssetSelection.assets("distinct_paths", "rft_datasets"),
    description="Distinct paths and RFT sets across every model; rerun after any model's paths change.",
)
rft_job = dg.define_asset_job(
    "rft_job", selection=dg.AssetSelection.assets("rft_model", "matched_sft_model", "eval_results"),
    description="RFT training, its step-matched SFT controls and the evaluation of one model.",
)
studies_job = dg.define_asset_job(
    "studies_job", selection=dg.AssetSelection.groups("studies"),
    description="The scaling studies of one model (and the cross-model loss study): only cells missing from "
                "rft.study_results are computed.",
)
# A later round of one model (partition model x round), then of every model (partition round).
round_per_model_job = dg.define_asset_job(
    "round_per_model_job", selection=dg.AssetSelection.assets("round_sampled_paths", "round_verified_paths"),
    description="One model's sampling and verification in a later round: from its previous round's RFT model.",
)
round_cross_model_job = dg.define_asset_job(
    "round_cross_model_job", selection=dg.AssetSelection.assets("round_distinct_paths", "round_rft_datasets"),
    description="A later round's distinct paths and RFT sets across every model.",
)
round_rft_job = dg.define_asset_job(
    "round_rft_job", selection=dg.AssetSelection.assets("round_rft_model", "round_matched_sft_model",
                                                        "round_eval_results"),
    description="A later round's RFT training, its step-matched SFT controls and the evaluation of one model.",
)
# The dbt staging views and marts over every table: the last step of `rft run` and `rft backfill`.
marts_job = dg.define_asset_job(
    "marts_job", selection=dg.AssetSelection.assets(marts.marts),
    description="The dbt staging views and marts over every table: the last step of rft run and backfill.",
)


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=all_assets,
        jobs=[questions_job, per_model_job, verify_job, cross_model_job, rft_job, studies_job, marts_job,
              round_per_model_job, round_cross_model_job, round_rft_job],
        # spark: the lakehouse; settings: YAML config and RFT_HOME; steps: external (GPU) processes;
        # dbt: the dbt CLI on dbt/ (marts)
        resources={"dbt": dbt_resource(), **(resources or default_resources())},
    )


defs = build_definitions()
