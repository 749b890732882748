"""Scaling studies through Dagster on the smoke config: a 2x2 grid end to end, then again.

RFT vs k at k = 1, 2 and SFT vs data at fractions 1/2 and 1, for one tiny model: real SFT,
sampling and verification first (the studies sample nothing), then four cells, each a real
training step and a real evaluation step. The second run of `studies_job` must find every
cell finished and recompute none; it runs as `rft studies run`, then `rft studies show
--record` writes the figures and `rft report` shows them.
"""

import json
import math

import pytest
import yaml
from dagster import AssetKey, DagsterInstance

from rft.home import PROJECT_ROOT
from rft.result_tables import with_interval
from rft_dagster.cli import main
from rft_dagster.definitions import build_definitions
from rft_dagster.pipeline import _execute
from rft_dagster.resources import RftSettings, StepRunner

MODEL = "study-tiny"  # its own partition: other tests' rows for tiny-llama-a stay untouched
N_TRAIN, N_TEST, K = 40, 20, 2  # configs/smoke.yaml


def cells(spark):
    return sorted(tuple(r) for r in spark.sql(
        "SELECT study, x, cell_id, distinct_paths, n_sft_rows, n_test, n_correct, run_id, checkpoint "
        f"FROM rft.study_results WHERE model = '{MODEL}'").collect())


@pytest.fixture(scope="module")
def studies(spark_resource, spark, tmp_path_factory):
    home = tmp_path_factory.mktemp("rft_home")
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "smoke.yaml").read_text())
    config["models"] = {MODEL: {"source": "tiny", "tiny": "tiny-llama-a"}}
    config["studies"] = {"rft_vs_k": {"ks": [1, 2, 6]}, "sft_vs_data": {"fractions": [0.5, 1.0]}}  # 6: capped at K
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
    _execute(defs, "questions_job", instance)
    _execute(defs, "per_model_job", instance, MODEL)
    state = {"instance": instance, "home": home}
    _execute(defs, "studies_job", instance, MODEL)
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


def latest_metadata(instance):
    return {name: instance.get_latest_materialization_event(AssetKey(name)).asset_materialization.metadata
            for name in ("rft_vs_k_study", "sft_vs_data_study")}


def test_every_cell_of_the_grid_has_one_row(studies, spark):
    rows = studies["first"]
    assert [(study, x) for study, x, *_ in rows] == [("rft_vs_k", 1.0), ("rft_vs_k", 2.0),
                                                   ("sft_vs_data", 0.5), ("sft_vs_data", 1.0)]
    assert all(n_test == N_TEST and 0 <= n_correct <= N_TEST for *_, n_test, n_correct, _, _ in rows)
    assert len({cell_id for _, _, cell_id, *_ in rows}) == 4
    by_x = {(r[0], r[1]): r for r in rows}
    assert by_x[("sft_vs_data", 0.5)][4] == N_TRAIN // 2 and by_x[("sft_vs_data", 1.0)][4] == N_TRAIN
    assert by_x[("rft_vs_k", 1.0)][4] == N_TRAIN  # RFT cells train on all the SFT data plus the paths


def test_distinct_paths_are_those_of_the_first_k_samples(studies, spark):
    by_k = {r[1]: r[3] for r in studies["first"] if r[0] == "rft_vs_k"}
    for k, n in by_k.items():
        # One per (question, equation list) among correct paths with sample_idx < k.
        expected = spark.sql(
            "SELECT count(DISTINCT question_id, equation_list) FROM rft.verified_paths "
            f"WHERE model = '{MODEL}' AND is_correct AND sample_idx < {int(k)}").first()[0]
        assert n == expected
    assert by_k[1.0] <= by_k[2.0]
    # At k = K the study's set is the pipeline's own distinct paths of the model.
    assert by_k[2.0] == spark.sql(f"SELECT count(*) FROM rft.distinct_paths WHERE pool = 'own:{MODEL}'").first()[0]


def test_rematerialising_recomputes_no_cell_and_duplicates_no_row(studies):
    assert studies["second"] == studies["first"]  # same run ids and checkpoints: nothing retrained
    for name, meta in studies["second_meta"].items():
        assert (meta["cells_computed"].value, meta["cells_reused"].value) == (0, 2), name
    for name, meta in studies["first_meta"].items():
        assert (meta["cells_computed"].value, meta["cells_reused"].value) == (2, 0), name


def test_each_cell_stores_its_settings_and_each_study_its_plot(studies, spark):
    for r in spark.sql(f"SELECT * FROM rft.study_results WHERE model = '{MODEL}'").collect():
        settings = json.loads(r.config)
        assert (settings["study"], settings["model"], settings["x"]) == (r.study, MODEL, r.x)
        assert r.ci_low <= r.accuracy <= r.ci_high
        assert set(r.table_versions) >= {"questions"}
    meta = studies["first_meta"]
    assert meta["rft_vs_k_study"]["rft_vs_k_plot"].value.startswith("![rft vs k](data:image/png;base64,iVBORw0KGgo")
    assert meta["sft_vs_data_study"]["sft_vs_data_plot"].value.startswith("![sft vs data](data:image/png;base64,")
    [entry] = meta["sft_vs_data_study"]["sft_vs_data_points"].value
    assert (entry["model"], entry["x"], entry["n_sft_rows"], entry["n"]) == (
        MODEL, [0.5, 1.0], [N_TRAIN // 2, N_TRAIN], [N_TEST, N_TEST])
    law = entry["fits"]["n_sft_rows"]
    assert law["log_x"] and law["n"] == 2  # two points: the law passes through both
    assert law["a"] + law["b"] * math.log(N_TRAIN) == pytest.approx(entry["y"][1], abs=1e-3)


def test_the_record_has_one_entry_per_study_and_model_with_its_fits(studies):
    record = json.loads(studies["record"].read_text())
    mine = [e for e in record["entries"] if e["model"] == MODEL]
    assert [(e["study"], e["varies"], e["x"]) for e in mine] == [
        ("rft_vs_k", "k", [1.0, 2.0]), ("sft_vs_data", "fraction", [0.5, 1.0])]
    rows = {(r[0], r[1]): r for r in studies["second"]}
    for entry in mine:
        for x, y, n, cell_id in zip(entry["x"], entry["y"], entry["n"], entry["cell_id"]):
            study, _, stored_id, _, _, n_test, n_correct, _, _ = rows[(entry["study"], x)]
            assert (cell_id, n, y) == (stored_id, n_test, round(n_correct / n_test, 4))
        assert set(entry["fits"]) == ({"k", "distinct_paths"} if entry["study"] == "rft_vs_k" else {"n_sft_rows"})
    assert isinstance(record["table_version"], int)


def test_the_report_shows_each_study_with_its_plot_and_intervals(studies, spark):
    page = (studies["home"] / "report.html").read_text()
    for study in ("rft_vs_k", "sft_vs_data"):
        assert f"<h3>{study}</h3>" in page
        assert f"<img alt='Scaling study {study}' src='data:image/png;base64," in page
    for r in spark.sql(f"SELECT * FROM rft.study_results WHERE model = '{MODEL}'").collect():
        assert with_interval(r.accuracy, r.ci_low, r.ci_high) in page
