"""The code location loads as `dagster dev -w workspace.yaml` loads it, with the whole graph."""

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from rft_dagster.dbt_project import mart_names
from rft_dagster.definitions import defs
from rft_dagster.partitions import model_rounds_partitions, rounds_partitions
from spark_jobs.schemas import TABLES

ROOT = Path(__file__).resolve().parents[2]
ASSETS = {
    "questions", "sft_model", "sampled_paths", "verified_paths", "distinct_paths",
    "rft_datasets", "rft_model", "matched_sft_model", "eval_results", "rft_vs_k_study", "sft_vs_data_study",
    "rft_vs_diversity_study", "heldout_loss", "pretrain_loss_study", "union_gain_study",
}
ROUND_ASSETS = {  # rounds >= 1 (docs/rounds.md): partitioned by model x round, or by round
    "round_sampled_paths", "round_verified_paths", "round_distinct_paths", "round_rft_datasets",
    "round_rft_model", "round_matched_sft_model", "round_eval_results",
}
STAGING = {f"stg_{table}" for table in (
    "questions", "sampled_paths", "verified_paths", "distinct_paths", "rft_datasets", "rft_dataset_rows",
    "models", "eval_results", "study_results",
)}
MARTS = set(mart_names())  # tests/dagster/test_dbt_project.py checks it against dbt/models/marts/


def test_workspace_loads_with_dagster_cli(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "RFT_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_graph_has_every_asset_with_a_group_and_a_description():
    graph = defs.resolve_asset_graph()
    names = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert names == ASSETS | ROUND_ASSETS | STAGING | MARTS
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name != "default", key
        assert node.description, key


def test_models_are_dynamic_partitions_and_cross_model_assets_are_not():
    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def}
    assert partitioned == {"sft_model", "sampled_paths", "verified_paths", "rft_model", "matched_sft_model", "eval_results",
                           "rft_vs_k_study", "sft_vs_data_study", "rft_vs_diversity_study", "heldout_loss",
                           "union_gain_study"} | ROUND_ASSETS
    by_round = {k.to_user_string() for k in graph.get_all_asset_keys()
                if graph.get(k).partitions_def in (model_rounds_partitions, rounds_partitions)}
    assert by_round == ROUND_ASSETS


def test_lineage_follows_the_rft_loop():
    graph = defs.resolve_asset_graph()

    def parents(name):
        from dagster import AssetKey

        return {k.to_user_string() for k in graph.get(AssetKey(name)).parent_keys}

    assert parents("sampled_paths") == {"sft_model"}
    assert parents("distinct_paths") == {"verified_paths"}
    assert parents("rft_model") == {"rft_datasets", "sft_model"}
    # Each RFT checkpoint's step-matched SFT control reads the steps the RFT run took.
    assert parents("matched_sft_model") == {"rft_model"}
    assert parents("eval_results") == {"sft_model", "rft_model", "matched_sft_model"}
    assert parents("rft_vs_k_study") == {"verified_paths"}  # no sampling of its own
    assert parents("sft_vs_data_study") == {"questions"}
    assert parents("rft_vs_diversity_study") == {"verified_paths"}
    assert parents("heldout_loss") == {"questions"}  # the base model, before any fine-tuning
    assert parents("pretrain_loss_study") == {"heldout_loss", "eval_results"}  # every model's
    assert parents("union_gain_study") == {"eval_results"}  # the pipeline's own RFT evaluations
    # A later round samples from the previous round's RFT model: a table read, since a graph
    # cannot loop; round 1's is round 0's rft_model.
    assert parents("round_sampled_paths") == {"rft_model"}
    assert parents("round_distinct_paths") == {"round_verified_paths", "distinct_paths"}  # cumulative pools
    assert parents("round_eval_results") == {"round_rft_model", "round_matched_sft_model"}


def test_every_dbt_source_reads_the_table_of_the_asset_that_writes_it():
    """Staging views hang off the Python assets (dbt sources' meta.dagster.asset_key), marts off staging."""
    graph = defs.resolve_asset_graph()

    def parents(name):
        return {k.to_user_string() for k in graph.get(AssetKey(name)).parent_keys}

    writers = {"questions": "questions", "sampled_paths": "sampled_paths", "verified_paths": "verified_paths",
               "distinct_paths": "distinct_paths", "rft_datasets": "rft_datasets",
               "rft_dataset_rows": "rft_datasets", "models": "matched_sft_model", "eval_results": "eval_results",
               "study_results": "rft_vs_k_study"}
    assert set(writers) == set(TABLES)  # every Delta table of spark_jobs/schemas.py is a dbt source
    for table, asset in writers.items():
        assert parents(f"stg_{table}") == {asset}, table
    assert parents("pass_at_k") == {"stg_sampled_paths", "stg_verified_paths"}
    assert parents("accuracy_leaderboard") == {"stg_eval_results", "stg_models"}
    assert parents("arm_accuracy") == {"accuracy_leaderboard"}
    assert {name: graph.get(AssetKey(name)).group_name for name in STAGING | MARTS} == {
        **{name: "staging" for name in STAGING}, **{name: "marts" for name in MARTS}
    }


def test_one_job_builds_every_dbt_model_after_the_loop():
    job = defs.resolve_job_def("marts_job")
    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == STAGING | MARTS


def test_every_job_says_what_it_runs():
    jobs = list(defs.jobs or [])
    assert jobs
    for job in jobs:
        assert job.description, job.name
