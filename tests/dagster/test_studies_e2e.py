"""Scaling studies through Dagster on the smoke config: every study end to end, then again.

One tiny model: real SFT, sampling and verification (the studies sample nothing). Then
`studies_job`: RFT vs k at k = 1, 2 and SFT vs data at fractions 1/2 and 1 (the 2x2 grid), one
RFT-vs-diversity cell (the duplicates control; every cell trains and evaluates alike, so one
shows the asset end to end, and the selections are tested on tiny tables in
tests/spark/test_study_selection.py), the base model's held-out loss (a real step) and the loss study
across models (here one: no fit, and it says why), and the union gain. Each training cell is a
real training step and a real evaluation step. The second run of
`studies_job` must find every cell finished and recompute none; it runs as `rft studies run`,
then `rft studies show --record` writes the figures and `rft report` shows them.

The union gain and the loss study read what the pipeline's RFT stage writes: `rft.models` rows
of the RFT checkpoints on own paths and on the union, and `rft.eval_results`. Running that stage
here (`cross_model_job` and `rft_job`: two trainings and an evaluation) would cost about 55 s of
this suite's budget, and tests/dagster/test_pipeline_e2e.py runs it already (and materialises
`union_gain_study` on the rows it really wrote), so this module writes those rows as the stage
writes them (`pipeline_rft_rows`, as tests/dagster/test_dbt_marts.py does) and removes them afterwards.
"""

import json
import math
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance

from rft.evaluation.significance import wilson_interval
from rft.home import PROJECT_ROOT
from rft.reporting.result_tables import with_interval
from rft_dagster.cli import main
from rft_dagster.definitions import build_definitions
from rft_dagster.job_runs import run_job
from rft_dagster.resources import RftSettings, StepRunner
from spark_jobs.lakehouse import where_equals
from spark_jobs.schemas import EVAL_RESULTS, MODELS

MODEL = "study-tiny"  # its own partition: other tests' rows for tiny-llama-a stay untouched
N_TRAIN, N_TEST, K = 40, 20, 2  # configs/smoke.yaml
STUDY_ASSETS = {  # asset -> its cells per run
    # RFT cells with their step-matched SFT controls: rft_vs_k 2 + 2, rft_vs_diversity 1 + 1 (one per seed)
    "rft_vs_k_study": 4, "sft_vs_data_study": 2, "rft_vs_diversity_study": 2, "heldout_loss": 1, "union_gain_study": 2,
}
# What the RFT stage would have written: (stage, training set) -> (distinct paths, correct of N_TEST).
RFT_STAGE = {("sft", "sft"): (0, 4), ("rft", f"own:{MODEL}"): (3, 5), ("rft", "union"): (7, 8)}


def pipeline_rft_rows(lake, home):
    """The rft.models rows of the two RFT checkpoints and the greedy rft.eval_results rows, as rft_job writes them."""
    checkpoints, evals = [], []
    for (stage, training_set), (paths, correct) in RFT_STAGE.items():
        checkpoint = str(home / "checkpoints" / MODEL / training_set.replace(":", "_") / "rft-stage")
        low, high = wilson_interval(correct, N_TEST)
        evals.append((MODEL, stage, training_set, "maj1@1", N_TEST, correct, correct / N_TEST, low, high,
                      checkpoint, "rft-stage-run", 42, 3, 300, None, "strict"))
        if stage == "rft":
            manifest = {"dataset": training_set, "pool": training_set, "source_models": [MODEL], "n_rft_rows": paths,
                        "rows_version": 1, "table_versions": {"distinct_paths": 1}, "sft_rows": N_TRAIN, "rft_rows": paths}
            checkpoints.append((MODEL, stage, training_set, checkpoint, "tiny-llama-a", "full", N_TRAIN + paths, 3, 1.0,
                                1000.0, 1.0, json.dumps({"seed": 42, "epochs": 1}), json.dumps(manifest),
                                "rft-stage-run", 42, 300))
    lake.replace("models", lake.spark.createDataFrame(checkpoints, MODELS.required_schema),
                 where_equals(model=MODEL, stage='rft'))
    lake.replace("eval_results", lake.spark.createDataFrame(evals, EVAL_RESULTS.required_schema), where_equals(model=MODEL))


def cells(spark):
    return sorted(tuple(r) for r in spark.sql(
        "SELECT study, coalesce(arm, ''), x, cell_id, distinct_paths, n_sft_rows, n_test, n_correct, run_id, checkpoint "
        f"FROM rft.study_results WHERE model = '{MODEL}'").collect())


@pytest.fixture(scope="module")
def studies(spark_resource, spark, tmp_path_factory):
    home = tmp_path_factory.mktemp("rft_home")
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "smoke.yaml").read_text())
    config["models"] = {MODEL: {"source": "tiny", "tiny": "tiny-llama-a"}}
    config["studies"] = {"rft_vs_k": {"ks": [1, 2, 6]}, "sft_vs_data": {"fractions": [0.5, 1.0]},  # 6: capped at K
                         "rft_vs_diversity": {"selections": ["duplicates"], "n_paths": 2}}  # see the docstring
    (home / "studies.yaml").write_text(yaml.safe_dump(config))
    resources = {
        "spark": spark_resource,
        "settings": RftSettings(config_file=str(home / "studies.yaml"), home=str(home)),
        "steps": StepRunner(),
    }
    defs = build_definitions(resources)
    (home / "dagster").mkdir()
    instance = DagsterInstance.local_temp(str(home / "dagster"))
    instance.add_dynamic_partitions("models", [MODEL])
    run_job(defs, "questions_job", instance)
    run_job(defs, "per_model_job", instance, MODEL)
    lake = spark_resource.lakehouse()
    pipeline_rft_rows(lake, home)  # stands in for cross_model_job and rft_job: see the docstring
    state = {"instance": instance, "home": home}
    run_job(defs, "studies_job", instance, MODEL)
    state["first"] = cells(spark)
    state["first_meta"] = latest_metadata(instance)
    # Again, as a user would: `rft studies run` on the same home and warehouse.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
        env.setenv("DAGSTER_HOME", str(home / "dagster"))
        for name in ("RFT_HOME", "RFT_CONFIG"):  # set by the CLI for the code location it loads
            env.delenv(name, raising=False)
        args = ["--home", str(home), "studies", "run", MODEL, "--config", str(home / "studies.yaml")]
        assert main(args) == 0
        state["record"] = home / "scaling.json"
        assert main(["--home", str(home), "studies", "show", "--record", str(state["record"])]) == 0
        assert main(["--home", str(home), "report", "--out", str(home / "report.html")]) == 0
    state["second"] = cells(spark)
    state["second_meta"] = latest_metadata(instance)
    yield state
    instance.dispose()
    spark.sql(f"DELETE FROM rft.eval_results WHERE {where_equals(model=MODEL)}")
    spark.sql(f"DELETE FROM rft.models WHERE {where_equals(model=MODEL, stage='rft')}")


def latest_metadata(instance):
    return {name: instance.get_latest_materialization_event(AssetKey(name)).asset_materialization.metadata
            for name in [*STUDY_ASSETS, "pretrain_loss_study"]}


def by_study(rows, study):
    return [r for r in rows if r[0] == study]


def test_every_cell_of_the_grid_has_one_row(studies, spark):
    rows = [r for r in by_study(studies["first"], "rft_vs_k") + by_study(studies["first"], "sft_vs_data") if not r[1]]
    assert [(study, x) for study, _, x, *_ in rows] == [("rft_vs_k", 1.0), ("rft_vs_k", 2.0),
                                                      ("sft_vs_data", 0.5), ("sft_vs_data", 1.0)]
    assert all(n_test == N_TEST and 0 <= n_correct <= N_TEST for *_, n_test, n_correct, _, _ in rows)
    assert len({r[3] for r in studies["first"]}) == len(studies["first"]) == sum(STUDY_ASSETS.values())
    by_x = {(r[0], r[2]): r for r in rows}
    assert by_x[("sft_vs_data", 0.5)][5] == N_TRAIN // 2 and by_x[("sft_vs_data", 1.0)][5] == N_TRAIN
    assert by_x[("rft_vs_k", 1.0)][5] == N_TRAIN  # RFT cells train on all the SFT data plus the paths


def test_distinct_paths_are_those_of_the_first_k_samples(studies, spark):
    by_k = {r[2]: r[4] for r in by_study(studies["first"], "rft_vs_k") if not r[1]}
    for k, n in by_k.items():
        # One per (question, equation list) among correct paths with sample_idx < k.
        expected = spark.sql(
            "SELECT count(DISTINCT question_id, equation_list) FROM rft.verified_paths "
            f"WHERE model = '{MODEL}' AND is_correct AND sample_idx < {int(k)}").first()[0]
        assert n == expected
    assert by_k[1.0] <= by_k[2.0]
    # At k = K the study's set is the pipeline's own distinct paths of the model.
    assert by_k[2.0] == spark.sql(f"SELECT count(*) FROM rft.distinct_paths WHERE pool = 'own:{MODEL}'").first()[0]


def test_the_duplicates_control_repeats_few_distinct_paths_to_the_same_count(studies, spark):
    [(_, arm, x, _, distinct, n_sft, n_test, *_)] = [r for r in by_study(studies["first"], "rft_vs_diversity")
                                                     if r[1] == "duplicates"]
    own = spark.sql(f"SELECT count(*) FROM rft.distinct_paths WHERE pool = 'own:{MODEL}'").first()[0]
    n = min(2, own)  # n_paths, capped at the model's distinct paths
    assert (arm, x, n_sft, n_test) == ("duplicates", n, N_TRAIN, N_TEST)
    assert distinct == min(1, n)  # ceil(0.25 * 2): one distinct path, repeated
    meta = studies["first_meta"]["rft_vs_diversity_study"]
    assert meta["declared"].value["selections"] == ["duplicates"]
    assert meta["rft_vs_diversity_plot"].value.startswith("![rft vs diversity](data:image/png;base64,")


def test_each_rft_cell_has_a_control_on_the_sft_data_alone_for_exactly_its_steps(studies, spark):
    rows = spark.sql(f"SELECT study, arm, x, seed, n_steps, n_sft_rows, distinct_paths, config, cell_id "
                     f"FROM rft.study_results WHERE model = '{MODEL}' AND study IN ('rft_vs_k', 'rft_vs_diversity')").collect()
    by_id = {r.cell_id: r for r in rows}
    controls = [r for r in rows if r.arm == "sft_matched"]
    assert len(controls) == 3  # k = 1, 2 and the diversity study's one seed
    for control in controls:
        matched = by_id[json.loads(control.config)["matches"]]
        assert (control.n_steps, control.seed, control.study) == (matched.n_steps, matched.seed, matched.study)
        assert (control.n_sft_rows, control.distinct_paths) == (N_TRAIN, 0)


def test_the_base_models_loss_is_measured_on_the_held_out_test_solutions(studies, spark):
    [row] = spark.sql(f"SELECT * FROM rft.study_results WHERE model = '{MODEL}' AND study = 'pretrain_loss'").collect()
    assert row.varies == "loss" and math.isfinite(row.x) and row.x > 0
    assert (row.n_test, row.accuracy, row.seed, row.arm) == (N_TEST, None, None, None)
    # The same architecture as the trained checkpoints: their train stats count the same parameters.
    [sft] = spark.sql(f"SELECT checkpoint FROM rft.models WHERE model = '{MODEL}' AND stage = 'sft'").collect()
    stats = json.loads((Path(sft.checkpoint) / "train_stats.json").read_text())
    assert row.n_params == stats["n_params"] and row.n_tokens > N_TEST
    assert json.loads(row.config)["fixed"]["corpus"]["name"] == "test_gold"


def test_one_model_gets_its_point_but_no_fit_and_the_reason(studies):
    meta = studies["first_meta"]["pretrain_loss_study"]
    sft, rft = meta["pretrain_loss_points"].value
    assert (sft["stage"], sft["models"], rft["stage"], rft["models"]) == ("sft", [MODEL], "rft", [MODEL])
    assert (sft["y"], rft["y"]) == ([4 / N_TEST], [5 / N_TEST])  # SFT, and RFT on own paths: not the union
    assert sft["fits"] == {"loss": None, "log_params": None}
    assert sft["no_fit"]["loss"] == f"one model ({MODEL}): a line needs two or more"
    assert meta["pretrain_loss_plot"].value.startswith("![pretrain loss](data:image/png;base64,")


def test_union_gain_reuses_the_pipelines_evaluations_and_set_sizes(studies, spark):
    rows = {arm: r for _, arm, *r in by_study(studies["first"], "union_gain")}
    evals = {r.training_set: r for r in spark.sql(
        f"SELECT * FROM rft.eval_results WHERE model = '{MODEL}' AND stage = 'rft' AND metric = 'maj1@1'").collect()}
    for arm, training_set in (("own", f"own:{MODEL}"), ("union", "union")):
        x, _, distinct, n_sft, n_test, n_correct, _, checkpoint = rows[arm]
        assert (n_test, n_correct, checkpoint) == (evals[training_set].n_test, evals[training_set].n_correct,
                                                  evals[training_set].checkpoint)
        assert (x, distinct, n_sft) == (RFT_STAGE[("rft", training_set)][0],) * 2 + (N_TRAIN,)
    [entry] = studies["first_meta"]["union_gain_study"]["union_gain_points"].value
    gain = entry["fits"]["gain"]
    assert gain["difference"] == pytest.approx((8 - 5) / N_TEST) and gain["ci_low"] < 0 < gain["ci_high"]
    assert entry["paths"] == [3, 7]


def test_rematerialising_recomputes_no_cell_and_duplicates_no_row(studies):
    assert studies["second"] == studies["first"]  # same run ids and checkpoints: nothing retrained
    for name, n in STUDY_ASSETS.items():
        second, first = studies["second_meta"][name], studies["first_meta"][name]
        assert (second["cells_computed"].value, second["cells_reused"].value) == (0, n), name
        assert (first["cells_computed"].value, first["cells_reused"].value) == (n, 0), name


def test_each_cell_stores_its_settings_and_each_study_its_plot(studies, spark):
    for r in spark.sql(f"SELECT * FROM rft.study_results WHERE model = '{MODEL}'").collect():
        settings = json.loads(r.config)
        assert (settings["study"], settings["model"], settings.get("arm")) == (r.study, MODEL, r.arm)
        assert r.study == "pretrain_loss" or r.ci_low <= r.accuracy <= r.ci_high
        assert set(r.table_versions) >= ({"eval_results", "models"} if r.study == "union_gain" else {"questions"})
    meta = studies["first_meta"]
    for asset in ("rft_vs_k_study", "sft_vs_data_study", "union_gain_study"):
        study = asset.removesuffix("_study")
        assert meta[asset][f"{study}_plot"].value.startswith(f"![{study.replace('_', ' ')}](data:image/png;base64,")
    [entry] = meta["sft_vs_data_study"]["sft_vs_data_points"].value
    assert (entry["model"], entry["x"], entry["n_sft_rows"], entry["n"]) == (
        MODEL, [0.5, 1.0], [N_TRAIN // 2, N_TRAIN], [N_TEST, N_TEST])
    law = entry["fits"]["n_sft_rows"]
    assert law["log_x"] and law["n"] == 2  # two points: the law passes through both
    assert law["a"] + law["b"] * math.log(N_TRAIN) == pytest.approx(entry["y"][1], abs=1e-3)


def test_the_record_has_one_entry_per_study_and_model_with_its_fits(studies):
    record = json.loads(studies["record"].read_text())
    mine = [e for e in record["entries"] if e["model"] == MODEL or MODEL in e.get("models", [])]
    assert [(e["study"], e["varies"]) for e in mine] == [
        ("rft_vs_k", "k"), ("sft_vs_data", "fraction"), ("rft_vs_diversity", "selection"), ("pretrain_loss", "loss"),
        ("pretrain_loss", "loss"), ("union_gain", "training_set")]
    for entry in mine:
        assert {"study", "model", "x", "y", "ci_low", "ci_high", "n", "fits"} <= set(entry), entry["study"]
        assert len(entry["x"]) == len(entry["y"]) == len(entry["ci_low"]) == len(entry["n"])
    rows = {(r[0], r[1] or r[2]): r for r in studies["second"]}  # (study, arm) or (study, x)
    [loss] = [r[2] for r in studies["second"] if r[0] == "pretrain_loss"]
    for entry in mine:
        if entry["study"] == "pretrain_loss":  # x: the loss; y: the stage's accuracy of the model
            assert (entry["x"], entry["n"]) == ([round(loss, 6)], [N_TEST])
            continue
        for x, y, n, cell_id in zip(entry["x"], entry["y"], entry["n"], entry["cell_id"]):
            _, _, _, stored_id, _, _, n_test, n_correct, _, _ = rows[(entry["study"], x)]
            assert (cell_id, n, y) == (stored_id, n_test, round(n_correct / n_test, 4))
    fits = {e["study"]: set(e["fits"]) for e in mine}
    assert fits["rft_vs_k"] == {"k", "distinct_paths"} and fits["sft_vs_data"] == {"n_sft_rows"}
    assert fits["union_gain"] == {"gain"} and fits["pretrain_loss"] == {"loss", "log_params"}
    assert isinstance(record["runs"]["local"]["table_version"], int) and {e["run"] for e in mine} == {"local"}


def test_the_report_shows_each_study_with_its_plot_and_intervals(studies, spark):
    page = (studies["home"] / "report.html").read_text()
    for study in ("rft_vs_k", "sft_vs_data", "rft_vs_diversity", "pretrain_loss", "union_gain"):
        assert f"<h3>{study}</h3>" in page
        assert f"<img alt='Scaling study {study}' src='data:image/png;base64," in page
    for r in spark.sql(f"SELECT * FROM rft.study_results WHERE model = '{MODEL}' AND accuracy IS NOT NULL").collect():
        assert with_interval(r.accuracy, r.ci_low, r.ci_high) in page
    assert f"no fit, one model ({MODEL}): a line needs two or more" in page
