"""Two training seeds end to end on the tiniest settings: one model, its union set, every arm twice.

Real Spark + Delta, real Dagster runs, real training of a tiny model in external steps. Each
cell (SFT, RFT on the union, its step-matched SFT control) is trained once per seed; RFT
samples come from the first seed's SFT model; re-materialising replaces each seed's rows.
"""

import pytest
import yaml
from dagster import DagsterInstance, materialize

from assets.checkpoints import matched_sft_model
from assets.eval_results import eval_results
from rft.home import PROJECT_ROOT
from rft_dagster.definitions import build_definitions
from rft_dagster.pipeline import run_pipeline, summary_table
from rft_dagster.resources import RftSettings, StepRunner

MODEL = "seeds-tiny"  # its own partition: other tests' rows stay untouched
SEEDS = [42, 43]


def arms(spark, table, *columns):
    return sorted(tuple(r) for r in spark.sql(
        f"SELECT stage, training_set, seed{''.join(', ' + c for c in columns)} FROM rft.{table} "
        f"WHERE model = '{MODEL}'").collect())


@pytest.fixture(scope="module")
def two_seeds(spark_resource, spark, tmp_path_factory):
    home = tmp_path_factory.mktemp("rft_home")
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "smoke.yaml").read_text())
    config["task"].update(n_train=16, n_test=8)
    config["sampling"].update(k=1)
    config.update(n_seeds=2, rft_training_sets=["union"], models={MODEL: {"source": "tiny", "tiny": "tiny-llama-a"}})
    (home / "seeds.yaml").write_text(yaml.safe_dump(config))
    resources = {"spark": spark_resource, "steps": StepRunner(),
                 "settings": RftSettings(config_file=str(home / "seeds.yaml"), home=str(home))}
    defs = build_definitions(resources)
    (home / "dagster").mkdir()
    instance = DagsterInstance.local_temp(str(home / "dagster"))
    run_pipeline([MODEL], instance=instance, defs=defs, marts=False)
    state = {"models": arms(spark, "models", "n_steps", "checkpoint"), "evals": arms(spark, "eval_results", "n_steps"),
             "summary": summary_table(spark_resource.lakehouse(), [MODEL])}
    # Again, the control and the evaluations (RFT training re-runs the same way, in the fault tests'
    # retry of rft_model): each seed's rows are replaced, none added.
    materialize([matched_sft_model, eval_results], partition_key=MODEL, instance=instance, resources=resources)
    state["rerun_models"] = arms(spark, "models", "n_steps")
    state["rerun_evals"] = arms(spark, "eval_results", "n_steps")
    yield state
    instance.dispose()
    for table in ("models", "eval_results"):
        spark.sql(f"DELETE FROM rft.{table} WHERE model = '{MODEL}'")


def test_every_arm_is_trained_and_evaluated_once_per_seed(two_seeds):
    expected = [(stage, training_set, seed) for stage, training_set in
                (("rft", "union"), ("sft", "sft"), ("sft_matched", "union")) for seed in SEEDS]
    assert [m[:3] for m in two_seeds["models"]] == expected
    assert [e[:3] for e in two_seeds["evals"]] == expected
    assert len({m[4] for m in two_seeds["models"]}) == 6  # six checkpoints, one folder each
    steps = {m[:3]: m[3] for m in two_seeds["models"]}
    assert all(steps[("sft_matched", "union", s)] == steps[("rft", "union", s)] for s in SEEDS)


def test_the_summary_shows_the_mean_and_spread_over_seeds_and_the_paired_test(two_seeds):
    summary = two_seeds["summary"]
    assert "(2 seeds)" in summary and "SFT matched union acc %" in summary
    assert "2 vs 2" in summary and "p (Holm)" in summary


def test_rematerialising_replaces_each_seeds_rows(two_seeds):
    assert [m[:3] for m in two_seeds["rerun_models"]] == [m[:3] for m in two_seeds["models"]]
    assert [e[:3] for e in two_seeds["rerun_evals"]] == [e[:3] for e in two_seeds["evals"]]
