"""The whole loop through Dagster on the smoke config: run one model, backfill a second (`rft backfill`), re-run.

Real Spark + Delta, real Dagster runs on a temporary instance, real training and sampling of
tiny models in external step processes. A few minutes on 2 cores.
"""

import base64
import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance, materialize

from assets.evaluation_studies import union_gain_study
from assets.filtering import verified_paths
from assets.sampled_paths import sampled_paths
from rft.home import PROJECT_ROOT, Home
from rft.reporting.result_tables import percent, with_interval
from rft_dagster.cli import main
from rft_dagster.console import next_steps
from rft_dagster.dataset_commands import rebuild
from rft_dagster.definitions import build_definitions
from rft_dagster.job_runs import run_job
from rft_dagster.partitions import model_round_key
from rft_dagster.pipeline import run_pipeline, summary_table
from rft_dagster.resources import RftSettings, StepRunner
from rft_dagster.rounds_pipeline import add_round, rounds_table, run_rounds
from spark_jobs.lakehouse import where_equals

SMOKE = PROJECT_ROOT / "configs" / "smoke.yaml"
A, B = "tiny-llama-a", "tiny-llama-b"
N_TRAIN, N_TEST, K = 40, 20, 2  # configs/smoke.yaml


def snapshot(spark):
    def rows(query):
        return [tuple(r) for r in spark.sql(query).collect()]

    return {
        "sampled": rows("SELECT model, count(*), count(DISTINCT path_id), min(run_id) FROM rft.sampled_paths "
                        f"WHERE model IN ('{A}', '{B}') GROUP BY model ORDER BY model"),
        "verified": rows("SELECT model, count(*), count(DISTINCT path_id) FROM rft.verified_paths "
                         f"WHERE model IN ('{A}', '{B}') GROUP BY model ORDER BY model"),
        "distinct": rows("SELECT pool, count(*) FROM rft.distinct_paths GROUP BY pool ORDER BY pool"),
        "datasets": rows("SELECT dataset, source_models, n_rft_rows FROM rft.rft_datasets ORDER BY dataset"),
        "models": rows("SELECT model, stage, training_set, seed, n_steps FROM rft.models ORDER BY 1, 2, 3"),
        "evals": rows("SELECT model, stage, training_set, metric, n_test, seed, n_steps FROM rft.eval_results "
                      "ORDER BY 1, 2, 3, 4"),
    }


def rft_on_a_pipe(spark_resource, home, *args) -> tuple[int, str]:
    """`rft --home HOME ARGS` in this process on the test's Spark server, its standard output no terminal."""
    console = io.StringIO()
    with pytest.MonkeyPatch.context() as env, redirect_stdout(console):
        env.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
        for name, value in (("RFT_HOME", home), ("DAGSTER_HOME", home / "dagster"), ("RFT_CONFIG", "")):
            env.setenv(name, str(value))  # restored afterwards: `rft` sets them
        return main(["--home", str(home), *args]), console.getvalue()


@pytest.fixture(scope="module")
def loop(spark_resource, spark, tmp_path_factory):
    home = tmp_path_factory.mktemp("rft_home")
    resources = {
        "spark": spark_resource,
        "settings": RftSettings(config_file=str(SMOKE), home=str(home)),
        "steps": StepRunner(),
    }
    defs = build_definitions(resources)
    (home / "dagster").mkdir()
    instance = DagsterInstance.local_temp(str(home / "dagster"))
    states = {}
    # The marts are built once, after the backfill (one dbt build fewer; `rft run` builds them too).
    # The backfill is `rft backfill` with its output on a pipe, as a script or CI would see it.
    run_pipeline([A], instance=instance, defs=defs, marts=False)
    states["one_model"] = snapshot(spark)
    states["backfill_rc"], states["console"] = rft_on_a_pipe(spark_resource, home, "backfill", B, "--config", str(SMOKE))
    states["backfilled"] = snapshot(spark)
    # Re-materialise what writes path rows (same seeds, so the same texts again) and the
    # cross-model assets; nothing may be added twice.
    run_job(defs, "questions_job", instance)
    materialize([sampled_paths, verified_paths], partition_key=A, instance=instance, resources=resources)
    run_job(defs, "cross_model_job", instance)
    states["rerun"] = snapshot(spark)
    states["summary"] = summary_table(spark_resource.lakehouse(), [A, B])
    states["instance"], states["resources"], states["home"] = instance, resources, home
    yield states
    instance.dispose()


def test_one_model_fills_every_table(loop):
    state = loop["one_model"]
    (model, n, n_unique, _run), = state["sampled"]
    assert (model, n, n_unique) == (A, N_TRAIN * K, N_TRAIN * K)
    assert state["verified"] == [(A, N_TRAIN * K, N_TRAIN * K)]
    assert [d[0] for d in state["datasets"]] == [f"own:{A}", "union"]
    arms = [("rft", f"own:{A}"), ("rft", "union"), ("sft", "sft"), ("sft_matched", f"own:{A}"), ("sft_matched", "union")]
    assert [m[1:3] for m in state["models"]] == arms and {m[3] for m in state["models"]} == {42}
    # Each step-matched control trained for exactly the steps of the RFT checkpoint it matches (an
    # RFT set holds the SFT data and more, so never fewer steps than SFT; on this tiny task often as many).
    steps = {m[1:3]: m[4] for m in state["models"]}
    assert all(steps[("sft_matched", s)] == steps[("rft", s)] >= steps[("sft", "sft")] for s in (f"own:{A}", "union"))
    assert [(e[1], e[2], e[3], e[4]) for e in state["evals"]] == [(*arm, "maj1@1", N_TEST) for arm in arms]
    assert all(e[6] == steps[e[1:3]] for e in state["evals"])  # every evaluation records its steps


def test_each_sampled_path_records_how_its_generation_ended(spark, loop):
    """eos, or length where max_new_tokens (96 in configs/smoke.yaml) cut it: a cut is never silent."""
    ended = spark.sql(f"SELECT finish_reason, count(*) AS n, min(n_new_tokens) AS fewest, max(n_new_tokens) AS most "
                      f"FROM rft.sampled_paths WHERE model IN ('{A}', '{B}') GROUP BY finish_reason").collect()
    assert {r.finish_reason for r in ended} <= {"eos", "length"}
    assert sum(r.n for r in ended) == 2 * N_TRAIN * K and all(r.fewest >= 1 for r in ended)
    assert all(r.fewest == r.most == 96 for r in ended if r.finish_reason == "length")
    assert all(r.most <= 96 for r in ended)


def test_rft_backfill_prints_a_line_per_stage_the_table_and_where_to_look_next(loop):
    """On a pipe: no progress bars, no Dagster or dbt logs; those are in the log file the first line names."""
    assert loop["backfill_rc"] == 0, loop["console"]
    lines = loop["console"].splitlines()
    assert len(lines) <= 60
    log = Path(lines[0].removeprefix("rft backfill: full log in "))
    stages = [f"sft_model[{B}]", f"sampled_paths[{B}]", f"verified_paths[{B}]", "distinct_paths", "rft_datasets",
              f"rft_model[{A}]", f"matched_sft_model[{A}]", f"eval_results[{A}]",
              f"rft_model[{B}]", f"matched_sft_model[{B}]", f"eval_results[{B}]", "marts"]
    assert [line.split()[0] for line in lines[1:1 + len(stages)]] == stages
    assert re.fullmatch(rf"sampled_paths\[{B}\] +{N_TRAIN * K} rows +\d+\.\d s", lines[2])
    table = lines[1 + len(stages):]
    assert table[0].startswith("| model ") and [row.split("|")[1].strip() for row in table[2:5]] == [A, B, "union"]
    assert "SFT matched union acc %" in table[0] and any(line.startswith("RFT vs its step-matched") for line in table)
    home = loop["home"]
    assert lines[-5:] == next_steps(f"rft --home {home}", Home(home), log).splitlines()
    assert log.parent == home / "logs"
    text = log.read_text()
    assert "STEP_SUCCESS" in text and "Completed successfully" in text  # Dagster's events, dbt's build
    assert "No dagster instance configuration file" not in text and "PreviewWarning" not in text


def test_backfill_samples_only_the_new_model_and_recomputes_the_union(loop):
    before, after = loop["one_model"], loop["backfilled"]
    assert after["sampled"][0] == before["sampled"][0]  # model A untouched, same run id
    assert after["sampled"][1][:3] == (B, N_TRAIN * K, N_TRAIN * K)
    union = dict((d[0], d[1]) for d in after["datasets"])["union"]
    assert union == [A, B]
    assert {e[0] for e in after["evals"]} == {A, B}
    assert len(after["evals"]) == 10
    assert loop["instance"].get_dynamic_partitions("models") == [A, B]


def test_rematerialising_adds_no_rows(loop):
    after, rerun = loop["backfilled"], loop["rerun"]
    for table in ("verified", "distinct", "datasets", "models", "evals"):
        assert rerun[table] == after[table], table
    for before_row, rerun_row in zip(after["sampled"], rerun["sampled"]):
        assert rerun_row[:3] == before_row[:3]  # same counts, no duplicate path ids


def test_summary_table_reports_every_model_and_the_union(loop):
    summary = loop["summary"]
    for label in (A, B, "union", "SFT acc %", "RFT union acc %", "SFT matched own acc %", "p (Holm)"):
        assert label in summary


def test_the_loop_ends_with_the_dbt_marts_of_every_model(loop, spark):
    """`rft backfill` ends with marts_job (as `rft run` does): the marts hold both models after it."""
    assert loop["instance"].get_latest_materialization_event(AssetKey("accuracy_leaderboard")) is not None
    pools = {r.pool: r for r in spark.sql("SELECT * FROM rft_marts.distinct_paths_per_question").collect()}
    for model in (A, B):
        own = pools[f"own:{model}"]
        assert (own.n_questions, own.n_sampled) == (N_TRAIN, N_TRAIN * K)
        assert own.n_distinct <= own.n_correct <= own.n_sampled
    pass_at_k = {(r.model, r.k): r for r in spark.sql(
        f"SELECT * FROM rft_marts.pass_at_k WHERE model IN ('{A}', '{B}')").collect()}
    assert sorted(pass_at_k) == [(A, 1), (A, 2), (B, 1), (B, 2)]
    solved = spark.sql(f"SELECT count(DISTINCT question_id) FROM rft.verified_paths WHERE model = '{A}' AND is_correct").first()[0]
    assert pass_at_k[(A, K)].n_solved == solved  # all K samples: every question with a correct path
    assert pass_at_k[(A, 1)].pass_at_k <= pass_at_k[(A, K)].pass_at_k
    leaderboard = spark.sql(f"SELECT * FROM rft_marts.accuracy_leaderboard WHERE model IN ('{A}', '{B}')").collect()
    assert len(leaderboard) == 10 and all((r.gain is None) == (r.stage == "sft") for r in leaderboard)
    assert all((r.gain_vs_matched is None) == (r.stage != "rft") for r in leaderboard)
    assert all(r.matched_n_steps == r.n_train_steps for r in leaderboard if r.stage == "rft")
    arms = spark.sql(f"SELECT * FROM rft_marts.arm_accuracy WHERE model IN ('{A}', '{B}') AND stage = 'rft'").collect()
    assert len(arms) == 4 and all(r.n_seeds == 1 and r.matched_mean_accuracy is not None for r in arms)


def test_materialisations_carry_the_plots_and_their_numbers(loop):
    instance = loop["instance"]
    distinct = instance.get_latest_materialization_event(AssetKey("distinct_paths")).asset_materialization.metadata
    assert distinct["pass_at_k_plot"].value.startswith("![pass@k per model](data:image/png;base64,iVBORw0KGgo")
    assert {model: sorted(curve) for model, curve in distinct["pass_at_k"].value.items()} == {A: ["1", "2"], B: ["1", "2"]}

    evaluation = instance.get_latest_materialization_event(AssetKey("eval_results")).asset_materialization.metadata
    assert evaluation["accuracy_vs_distinct_paths_plot"].value.startswith("![accuracy vs distinct paths](data:image/png")
    points = evaluation["accuracy_vs_distinct_paths"].value
    assert sorted((p["model"], p["stage"], p["training_set"]) for p in points) == [
        (m, stage, s) for m in (A, B)
        for stage, s in (("rft", f"own:{m}"), ("rft", "union"), ("sft", "sft"), ("sft_matched", f"own:{m}"),
                         ("sft_matched", "union"))
    ]
    assert "SFT matched union" in evaluation["accuracy_per_arm"].value
    assert "p (Holm)" in evaluation["rft_vs_controls"].value
    assert all(p["distinct_paths"] == 0 for p in points if p["training_set"] == "sft")


def test_the_report_is_one_html_file_with_the_numbers_and_the_plots(loop, spark_resource, spark, tmp_path, monkeypatch):
    monkeypatch.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    out = tmp_path / "report.html"
    assert main(["--home", str(tmp_path), "report", "--out", str(out)]) == 0
    page = re.sub(r">\s+<", "><", out.read_text())

    images = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>", page)
    # (plus a figure per scaling study, when the warehouse holds study cells: tests/dagster/test_studies_e2e.py)
    assert [alt for alt, _ in images if not alt.startswith("Scaling study")] == [
        "Accuracy vs distinct paths trained on", "pass@k per model"]
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for _, data in images)
    assert not re.search(r"<script|<link|src='http", page)  # nothing to fetch: one file

    correct = dict(spark.sql("SELECT model, sum(cast(is_correct AS INT)) FROM rft.verified_paths "
                             f"WHERE model IN ('{A}', '{B}') GROUP BY model").collect())
    own = dict(spark.sql("SELECT pool, count(*) FROM rft.distinct_paths GROUP BY pool").collect())
    for model in (A, B):
        share = percent(correct[model], N_TRAIN * K)
        assert (f"<tr><td>{model}</td><td>{N_TRAIN * K}</td><td>{correct[model]}</td><td>{share}</td>"
                f"<td>{own.get(f'own:{model}', 0)}</td></tr>") in page
    for r in spark.sql("SELECT * FROM rft.eval_results WHERE metric = 'maj1@1'").collect():
        assert with_interval(r.accuracy, r.ci_low, r.ci_high) in page


def test_a_checkpoints_training_set_is_rebuilt_from_the_manifest_it_recorded(loop, spark_resource):
    lake = spark_resource.lakehouse()
    rebuilt = rebuild(lake, "union", model=A)  # the union as A's RFT checkpoint saw it
    assert rebuilt.matches_stored
    assert rebuilt.manifest["source_models"] == [A, B]
    assert len(rebuilt.rows) == rebuilt.manifest["rft_rows"]  # what training counted
    assert rebuilt.rows["question"].notna().all()


def test_the_union_gain_study_reads_what_the_rft_stage_wrote(loop, spark):
    """The study trains nothing: its two cells are the loop's own RFT checkpoints as eval_results scored them."""
    result = materialize([union_gain_study], partition_key=A, instance=loop["instance"], resources=loop["resources"])
    try:
        assert result.success
        cells = {r.arm: r for r in spark.sql(
            f"SELECT * FROM rft.study_results WHERE study = 'union_gain' AND model = '{A}'").collect()}
        evals = {r.training_set: r for r in spark.sql(
            f"SELECT * FROM rft.eval_results WHERE model = '{A}' AND stage = 'rft' AND metric = 'maj1@1'").collect()}
        sets = {r.dataset: r.n_rft_rows for r in spark.sql("SELECT dataset, n_rft_rows FROM rft.rft_datasets").collect()}
        for arm, training_set in (("own", f"own:{A}"), ("union", "union")):
            cell, scored = cells[arm], evals[training_set]
            assert (cell.n_test, cell.n_correct, cell.checkpoint) == (scored.n_test, scored.n_correct, scored.checkpoint)
            assert cell.x == cell.distinct_paths == sets[training_set] and cell.n_sft_rows == N_TRAIN
        [entry] = result.asset_materializations_for_node("union_gain_study")[0].metadata["union_gain_points"].value
        assert entry["fits"]["gain"]["difference"] == pytest.approx(cells["union"].accuracy - cells["own"].accuracy)
    finally:  # the studies' own tests count this table's rows of their model only; leave it as found
        spark.sql(f"DELETE FROM rft.study_results WHERE {where_equals(study='union_gain', model=A)}")


# Last in this module: the second round writes rows that the tests above do not count.
@pytest.fixture(scope="module")
def two_rounds(loop, spark, spark_resource):
    # The smoke config with a second round: what `rft run` goes on to after round 0 (run_rounds).
    config = yaml.safe_load(SMOKE.read_text())
    config["rounds"] = {"n_rounds": 2}
    two = loop["home"] / "two_rounds.yaml"
    two.write_text(yaml.safe_dump(config))
    resources = {**loop["resources"], "settings": RftSettings(config_file=str(two), home=str(loop["home"]))}
    defs, instance = build_definitions(resources), loop["instance"]
    try:  # a failed setup must not leave rows of round 1 to the modules after this one
        before = snapshot(spark)
        states = {"ran": run_rounds([A], instance, defs)}
        records = instance.fetch_materializations(AssetKey("round_sampled_paths"), limit=1).records
        states["sampled_from"] = records[0].asset_materialization.metadata["checkpoint"].value
        states["after"], states["table"] = snapshot(spark), rounds_table(spark_resource.lakehouse())
        states["rounds_again"] = run_rounds([A], instance, defs)  # nothing left to run
        # Re-running the round's jobs adds nothing twice.
        run_job(defs, "round_per_model_job", instance, model_round_key(A, 1))
        run_job(defs, "round_cross_model_job", instance, "1")
        states["rerun"] = snapshot(spark)
        try:
            add_round(A, instance, defs, marts=False)
        except ValueError as error:
            states["refused"] = str(error)
        states["list_rc"], states["list"] = rft_on_a_pipe(spark_resource, loop["home"], "rounds", "list")
        states["before"] = before
        yield states
    finally:
        for table in ("sampled_paths", "verified_paths", "distinct_paths", "rft_datasets", "rft_dataset_rows",
                      "models", "eval_results"):
            spark.sql(f"DELETE FROM rft.{table} WHERE coalesce(round, 0) > 0")


def test_a_second_round_samples_from_the_first_rounds_rft_model_and_keeps_round_zero(two_rounds, spark):
    assert two_rounds["ran"] == [(A, 1)] and two_rounds["rounds_again"] == []
    rows = spark.sql(f"SELECT coalesce(round, 0) AS round, count(*) AS n, count(DISTINCT path_id) AS ids "
                     f"FROM rft.sampled_paths WHERE model = '{A}' GROUP BY 1 ORDER BY 1").collect()
    assert [tuple(r) for r in rows] == [(0, N_TRAIN * K, N_TRAIN * K), (1, N_TRAIN * K, N_TRAIN * K)]
    # round 0's paths are the same rows; B has no second round
    assert two_rounds["after"]["sampled"][1] == two_rounds["before"]["sampled"][1]
    assert spark.sql(f"SELECT count(*) AS n FROM rft.sampled_paths WHERE model = '{B}' AND round > 0").first().n == 0
    # sampled from round 0's RFT model on A's own paths (rounds.sample_from: own)
    round_zero = spark.sql(f"SELECT checkpoint FROM rft.models WHERE model = '{A}' AND stage = 'rft' "
                           f"AND training_set = 'own:{A}'").first().checkpoint
    assert two_rounds["sampled_from"] == round_zero


def test_the_second_rounds_pools_hold_every_distinct_path_of_both_rounds(two_rounds, spark):
    def keys(pool):
        return {tuple(r) for r in spark.sql(f"SELECT question_id, equation_list FROM rft.distinct_paths "
                                            f"WHERE pool = '{pool}'").collect()}

    assert keys(f"own:{A}") <= keys(f"own:{A}@r1") and keys("union") <= keys("union@r1")  # cumulative
    rows = spark.sql(f"SELECT question_id, equation_list, round, producers FROM rft.distinct_paths "
                     f"WHERE pool = 'own:{A}@r1'").collect()
    assert {r.round for r in rows} <= {1}  # the tiny models may find no correct path in a round
    # every producer says its round: a path found in round 0 is listed with round 0
    for row in rows:
        produced_in = {p["round"] for p in row.producers}
        assert produced_in <= {0, 1}
        assert (0 in produced_in) == ((row.question_id, row.equation_list) in keys(f"own:{A}"))
    sets = {r.dataset: r.round for r in spark.sql("SELECT dataset, round FROM rft.rft_datasets").collect()}
    assert sets[f"own:{A}@r1"] == 1 and sets["union@r1"] == 1 and sets[f"own:{A}"] in (0, None)


def test_the_second_round_trains_rft_and_its_step_matched_control_and_evaluates_them(two_rounds, spark):
    trained = spark.sql(f"SELECT stage, training_set, n_steps FROM rft.models WHERE model = '{A}' AND round = 1 "
                        "ORDER BY 1, 2").collect()
    assert [(r.stage, r.training_set) for r in trained] == [
        ("rft", f"own:{A}@r1"), ("rft", "union@r1"), ("sft_matched", f"own:{A}@r1"), ("sft_matched", "union@r1")]
    steps = {(r.stage, r.training_set): r.n_steps for r in trained}
    assert steps[("sft_matched", f"own:{A}@r1")] == steps[("rft", f"own:{A}@r1")]
    evals = spark.sql(f"SELECT stage, training_set FROM rft.eval_results WHERE model = '{A}' AND round = 1 "
                      "AND metric = 'maj1@1'").collect()
    assert sorted((r.stage, r.training_set) for r in evals) == [(s, t) for s, t in steps]
    table = two_rounds["table"]
    assert [(r.model, r.round) for r in table.itertuples() if r.model in (A, B)] == [(A, 0), (A, 1), (B, 0)]


def test_rerunning_a_round_adds_nothing_and_the_config_bounds_the_rounds(two_rounds):
    def without_run_ids(state):  # a re-run writes its own run id on the rows it replaces
        return {**state, "sampled": [row[:3] for row in state["sampled"]]}

    assert without_run_ids(two_rounds["rerun"]) == without_run_ids(two_rounds["after"])
    assert "rounds.n_rounds is 2" in two_rounds["refused"]


def test_rounds_list_shows_each_models_rounds(two_rounds):
    assert two_rounds["list_rc"] == 0
    first_table = two_rounds["list"].split("\n\n")[0]  # the paired tests' table follows
    table = [[cell.strip() for cell in line.strip().strip("|").split("|")]
             for line in first_table.splitlines() if line.startswith("|")]
    model, round_ = table[0].index("model"), table[0].index("round")
    assert [(row[model], row[round_]) for row in table[2:] if row[model] == A] == [(A, "0"), (A, "1")]
