"""The dbt marts, built through Dagster on a tiny lakehouse, against the same figures in Python.

Four questions, two models (k = 5 and k = 3) with hand-picked paths: correct ones in two
equation orders and two wordings, wrong answers, false equations, no answer. Sampled paths go
through the real verification and dedup Spark jobs into the session's warehouse (under model
and question ids of their own, removed afterwards); evaluations and checkpoints are written as
rows, and so are cells of every scaling study (tests/dagster/dbt_study_cells.py). Then `rft marts`,
one Dagster run of the dbt assets, runs `dbt build`: every model, the data tests and the unit tests.

Where a figure has a Python owner (the paths funnel: spark_jobs.run_results; pass@k:
rft.evaluation.pass_at_k; the laws, pooled arms and differences: rft.studies), the mart that
restates it in SQL is checked against that owner on the same rows (docs/figures.md).
"""

import json
from collections import Counter, defaultdict

import pandas as pd
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus
from pyspark.sql import functions as F

from assets.marts import dbt_environment
from rft.evaluation.pass_at_k import pass_at_k_curve
from rft.evaluation.significance import wilson_interval
from rft.filter.pools import UNION_POOL, own_pool
from rft.reporting.result_tables import funnel_table
from rft.studies.contrasts import difference
from rft_dagster.cli import main
from rft_dagster.dbt_project import dbt_resource, mart_names
from spark_jobs.distinct_paths import distinct_paths
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_in
from spark_jobs.path_ids import path_id
from spark_jobs.run_results import first_correct_samples, funnel_counts
from spark_jobs.schemas import SAMPLED_PATHS, TABLES
from spark_jobs.verified_paths import verify_sampled_paths
from tests.dagster.dbt_study_cells import owner_study_figures, write_study_cells

A, B = "dbt-a", "dbt-b"
# question id -> the two factors of its product (the gold answer)
FACTORS = {"dbt-q1": (3, 4), "dbt-q2": (6, 7), "dbt-q3": (8, 9), "dbt-q4": (5, 12)}
# Each sample of each question, by kind: "x*y" and "y*x" are two equation lists (two distinct
# paths), "x*y again" the first in other words (the same distinct path).
SAMPLES = {
    A: {  # k = 5
        "dbt-q1": ["x*y", "x*y again", "wrong", "y*x", "false equation"],
        "dbt-q2": ["wrong", "no answer", "wrong", "x*y", "wrong"],
        "dbt-q3": ["wrong"] * 5,
        "dbt-q4": ["wrong", "y*x", "y*x", "x*y", "x*y again"],
    },
    B: {  # k = 3
        "dbt-q1": ["y*x", "wrong", "x*y"],
        "dbt-q2": ["false equation", "wrong", "wrong"],
        "dbt-q3": ["wrong", "wrong", "x*y"],
        "dbt-q4": ["x*y", "x*y again", "x*y"],
    },
}
# (model, stage, training set, metric) -> correct of N_TEST test questions
N_TEST = 20
EVALS = {
    (A, "sft", "sft", "maj1@1"): 8, (A, "rft", f"own:{A}", "maj1@1"): 10, (A, "rft", "union", "maj1@1"): 15,
    (A, "sft", "sft", "maj1@4"): 9, (A, "rft", "union", "maj1@4"): 16,
    (B, "sft", "sft", "maj1@1"): 5, (B, "rft", f"own:{B}", "maj1@1"): 5, (B, "rft", "union", "maj1@1"): 7,
}
IN_MODELS, IN_QUESTIONS = where_in("model", [A, B]), where_in("question_id", list(FACTORS))


def path_text(kind: str, x: int, y: int) -> str:
    p = x * y
    return {
        "x*y": f"{x}*{y}=<<{x}*{y}={p}>>{p} in all.\n#### {p}",
        "x*y again": f"Altogether that makes {x}*{y}=<<{x}*{y}={p}>>{p}, so\n#### {p}",
        "y*x": f"{y}*{x}=<<{y}*{x}={p}>>{p} in all.\n#### {p}",
        "wrong": f"{x}+{y}=<<{x}+{y}={x + y}>>{x + y} in all.\n#### {x + y}",
        "false equation": f"{x}*{y}=<<{x}*{y}={p + 1}>>{p} in all.\n#### {p}",
        "no answer": "I cannot tell.",
    }[kind]


def write_tiny_lakehouse(lake: Lakehouse) -> None:
    """Questions and samples through the real verify and dedup jobs; evals and checkpoints as rows."""
    spark = lake.spark
    questions = pd.DataFrame([
        (qid, "train", f"What is {x} times {y}?", f"{x}*{y}=<<{x}*{y}={x * y}>>{x * y}\n#### {x * y}",
         str(x * y), "dbt test") for qid, (x, y) in FACTORS.items()
    ], columns=TABLES["questions"].column_names)
    lake.replace("questions", spark.createDataFrame(questions, TABLES["questions"].schema), IN_QUESTIONS)

    sampled = pd.DataFrame([
        (model, qid, idx, 1000 + idx, 0.7, path_text(kind, *FACTORS[qid]), "transformers", "dbt-test")
        for model, per_question in SAMPLES.items() for qid, kinds in per_question.items()
        for idx, kind in enumerate(kinds)
    ], columns=["model", "question_id", "sample_idx", "seed", "temperature", "text", "backend", "run_id"])
    sampled = spark.createDataFrame(sampled, SAMPLED_PATHS.ddl(list(sampled.columns)))
    sampled = sampled.withColumn("path_id", path_id(F.col("model"), F.col("question_id"), F.col("sample_idx")))
    lake.replace("sampled_paths", sampled, IN_MODELS)
    verified = verify_sampled_paths(lake.table("sampled_paths").filter(IN_MODELS), lake.table("questions"))
    lake.replace("verified_paths", verified, IN_MODELS)
    lake.replace("distinct_paths", distinct_paths(lake.table("verified_paths").filter(IN_MODELS)), IN_QUESTIONS,
                 materialise=True)

    evals, checkpoints = [], []
    for (model, stage, training_set, metric), correct in EVALS.items():
        low, high = wilson_interval(correct, N_TEST)
        n_examples = 4 if stage == "sft" else 8  # the gold solutions, or those plus distinct paths
        evals.append((model, stage, training_set, metric, N_TEST, correct, correct / N_TEST, low, high,
                      f"ckpt/{model}/{training_set}", "dbt-test", 42, n_examples // 2, 10 * n_examples, None,
                      "strict", 0))
        checkpoints.append((model, stage, training_set, f"ckpt/{model}/{training_set}", "tiny", "full",
                            n_examples, n_examples // 2, 1.0, 100.0, 1.0, "{}", "{}", "dbt-test", 42, 10 * n_examples, 0))
    lake.replace("eval_results", spark.createDataFrame(evals, TABLES["eval_results"].schema), IN_MODELS)
    checkpoints = pd.DataFrame(checkpoints, columns=TABLES["models"].column_names).drop_duplicates(
        ["model", "stage", "training_set"])
    lake.replace("models", spark.createDataFrame(checkpoints, TABLES["models"].schema), IN_MODELS)
    write_study_cells(lake, A, B, N_TEST)


def delete_tiny_lakehouse(lake: Lakehouse) -> None:
    """The warehouse is the test session's: leave it as this module found it."""
    for name, where in [("questions", IN_QUESTIONS), ("sampled_paths", IN_MODELS), ("verified_paths", IN_MODELS),
                        ("distinct_paths", IN_QUESTIONS), ("eval_results", IN_MODELS), ("models", IN_MODELS),
                        ("study_results", IN_MODELS)]:
        lake.spark.sql(f"DELETE FROM {TABLES[name].qualified} WHERE {where}")


# ---- the same figures in plain Python, from the rows the Spark jobs wrote ----------------------

def lakehouse_rows(lake: Lakehouse) -> dict[str, list]:
    def rows(name, where, *columns):
        return lake.table(name).filter(where).select(*columns).collect()

    return {
        "sampled": rows("sampled_paths", IN_MODELS, "path_id", "model", "question_id", "sample_idx"),
        "verified": rows("verified_paths", IN_MODELS, "path_id", "model", "question_id", "is_correct"),
        "distinct": rows("distinct_paths", IN_QUESTIONS, "pool", "question_id"),
    }


def python_question_counts(rows) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(pool, question) -> (sampled, correct, distinct); the union adds up every model."""
    counts = defaultdict(lambda: [0, 0, 0])
    for r in rows["sampled"]:
        for pool in (f"own:{r.model}", "union"):
            counts[(pool, r.question_id)][0] += 1
    for r in rows["verified"]:
        for pool in (f"own:{r.model}", "union"):
            counts[(pool, r.question_id)][1] += int(r.is_correct)
    for r in rows["distinct"]:
        counts[(r.pool, r.question_id)][2] += 1
    return {key: tuple(value) for key, value in counts.items()}


def python_pool_summary(counts, pool: str) -> dict:
    per_question = [c for (p, _), c in counts.items() if p == pool]
    questions = sum(1 for s, _, _ in per_question if s > 0)
    solved = sum(1 for _, c, _ in per_question if c > 0)
    distinct = sum(d for _, _, d in per_question)
    return {
        "n_questions": questions, "n_solved": solved, "n_sampled": sum(s for s, _, _ in per_question),
        "n_correct": sum(c for _, c, _ in per_question), "n_distinct": distinct,
        "distinct_per_question": distinct / questions, "distinct_per_solved_question": distinct / solved,
        "max_distinct_per_question": max(d for _, _, d in per_question),
    }


def python_buckets(counts, model: str) -> dict[int, int]:
    """correct samples -> questions, every bucket from 0 to k (this data gives each question k samples)."""
    per_question = [(s, c) for (pool, _), (s, c, _) in counts.items() if pool == f"own:{model}"]
    (k,) = {s for s, _ in per_question}
    histogram = Counter(c for _, c in per_question)
    return {n: histogram.get(n, 0) for n in range(k + 1)}


def python_leaderboard_row(model: str, training_set: str, metric: str) -> dict:
    """Gain over the model's SFT with Newcombe's interval (rft.studies.contrasts.difference, the Python owner)."""
    stage = "sft" if training_set == "sft" else "rft"

    def evaluation(stage, training_set):
        correct = EVALS[(model, stage, training_set, metric)]
        low, high = wilson_interval(correct, N_TEST)
        return {"accuracy": correct / N_TEST, "ci_low": low, "ci_high": high}

    rft, sft = evaluation(stage, training_set), evaluation("sft", "sft")
    if stage == "sft":
        return {"accuracy": sft["accuracy"], "gain": None, "gain_ci_low": None, "gain_ci_high": None}
    gain = difference(rft, sft)
    return {"accuracy": rft["accuracy"], "gain": gain["difference"], "gain_ci_low": gain["ci_low"],
            "gain_ci_high": gain["ci_high"]}


# ---- the marts, built through Dagster -----------------------------------------------------------

@pytest.fixture(scope="module")
def built(spark_resource, lake, tmp_path_factory):
    """`rft marts` on the session's warehouse: the Dagster job of the dbt assets, on a home of its own."""
    home = tmp_path_factory.mktemp("dbt_home")
    write_tiny_lakehouse(lake)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
            env.setenv("RFT_HOME", str(home))
            env.setenv("DAGSTER_HOME", str(home / "dagster"))
            env.delenv("RFT_CONFIG", raising=False)
            rc = main(["--home", str(home), "marts"])
            instance = DagsterInstance.get()
            (run,) = instance.get_runs()

            def events(kind):
                return [entry.dagster_event for entry in instance.all_logs(run.run_id, of_type=kind)]

            state = {
                "rc": rc, "run": run, "home": home, "rows": lakehouse_rows(lake),
                "materialised": {e.asset_key for e in events(DagsterEventType.ASSET_MATERIALIZATION)},
                "checks": [e.event_specific_data for e in events(DagsterEventType.ASSET_CHECK_EVALUATION)],
                "run_results": json.loads((home / "runs" / "dbt" / run.run_id[:8] / "run_results.json").read_text()),
            }
            instance.dispose()
        yield state
    finally:
        delete_tiny_lakehouse(lake)


def mart(spark, name: str, where: str = "true") -> list:
    return spark.sql(f"SELECT * FROM rft_marts.{name} WHERE {where}").collect()


def test_one_materialisation_builds_every_model_and_passes_every_test(built):
    assert built["rc"] == 0 and built["run"].status == DagsterRunStatus.SUCCESS
    assert built["materialised"] == {AssetKey(name) for name in mart_names()} | {
        AssetKey(f"stg_{name}") for name in ("questions", "sampled_paths", "verified_paths", "distinct_paths",
                                             "rft_datasets", "rft_dataset_rows", "models", "eval_results",
                                             "study_results")
    }
    checks = built["checks"]
    assert checks and all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]

    results = built["run_results"]["results"]
    statuses = Counter((r["unique_id"].split(".")[0], r["status"]) for r in results)
    # pass@k (2), difficulty buckets, leaderboard, arm accuracy, round progress, studies (6: rft_vs_k has two)
    assert statuses[("unit_test", "pass")] == 12
    assert statuses[("test", "pass")] >= 40  # keys, ranges and rules, on sources and marts
    assert statuses[("model", "success")] == len(built["materialised"])
    # A warning is allowed only where one is configured: sampled paths without a verdict yet.
    warned = {r["unique_id"] for r in results if r["status"] == "warn"}
    assert all("relationships_rft_sampled_paths_path_id" in unique_id for unique_id in warned), warned
    assert set(statuses) <= {("unit_test", "pass"), ("test", "pass"), ("test", "warn"), ("model", "success")}


def test_pass_at_k_is_the_share_of_questions_solved_within_the_first_k_samples(built, lake, spark):
    rows = {(r.model, r.k): (r.k_sampled, r.n_questions, r.n_solved, r.pass_at_k)
            for r in mart(spark, "pass_at_k", IN_MODELS)}
    # the Python owner (the report and the Dagit metadata) on the same rows
    curve = pass_at_k_curve(to_pandas(first_correct_samples(lake.table("verified_paths").filter(IN_MODELS))))
    k_sampled = curve.groupby("model")["k"].max()
    assert rows == {(r.model, r.k): (k_sampled[r.model], r.n_questions, r.n_solved, r.pass_at_k)
                    for r in curve.itertuples()}
    # dbt-a: q1 solved by sample 0, q4 by sample 1, q2 by sample 3, q3 never; dbt-b sampled 3
    assert {k: v[3] for (m, k), v in rows.items() if m == A} == {1: 0.25, 2: 0.5, 4: 0.75, 5: 0.75}
    assert {k: v[3] for (m, k), v in rows.items() if m == B} == {1: 0.5, 2: 0.5, 3: 0.75}


def test_distinct_paths_are_counted_per_question_by_model_and_for_the_union(built, spark):
    counts = python_question_counts(built["rows"])
    rows = {(r.pool, r.question_id): (r.n_sampled, r.n_correct, r.n_distinct)
            for r in mart(spark, "question_path_counts", IN_QUESTIONS)}
    assert rows == counts
    # the union of both models: x*y and y*x for q1 and q4, one order for q2 and q3
    assert {q: rows[("union", q)][2] for q in FACTORS} == {"dbt-q1": 2, "dbt-q2": 1, "dbt-q3": 1, "dbt-q4": 2}

    pools = {r.pool: r.asDict() for r in mart(spark, "distinct_paths_per_question", where_in("pool", [f"own:{A}", f"own:{B}"]))}
    for model in (A, B):
        expected = python_pool_summary(counts, f"own:{model}")
        assert {k: pools[f"own:{model}"][k] for k in expected} == pytest.approx(expected)
        assert pools[f"own:{model}"]["model"] == model
    assert pools[f"own:{A}"]["n_distinct"] == 5 and pools[f"own:{B}"]["n_distinct"] == 4


def test_the_funnel_mart_agrees_with_the_python_owner(built, lake, spark):
    """distinct_paths_per_question restates the paths funnel (spark_jobs.run_results.funnel_counts) in SQL.

    Over the whole warehouse: the union counts every model. The mart counts sampled paths in
    rft.sampled_paths, the funnel those with a verdict; they differ by the paths not verified yet.
    """
    funnel = funnel_table(*funnel_counts(lake.table("verified_paths"), lake.table("distinct_paths")))
    pools = {r.pool: r for r in mart(spark, "distinct_paths_per_question")}
    unverified = dict(lake.table("sampled_paths").join(lake.table("verified_paths"), "path_id", "left_anti")
                      .groupBy("model").count().collect())
    for row in funnel.itertuples():
        pool = UNION_POOL if row.model == UNION_POOL else own_pool(row.model)
        waiting = sum(unverified.values()) if pool == UNION_POOL else unverified.get(row.model, 0)
        assert (pools[pool].n_sampled - waiting, pools[pool].n_correct, pools[pool].n_distinct) == (
            row.sampled, row.correct, row.distinct), pool
    assert {own_pool(A), own_pool(B), UNION_POOL} <= set(pools)


def test_difficulty_buckets_count_questions_by_correct_samples_with_empty_buckets(built, spark):
    counts = python_question_counts(built["rows"])
    for model, k in ((A, 5), (B, 3)):
        rows = mart(spark, "difficulty_buckets", where_in("model", [model]))
        assert {r.n_correct: r.n_questions for r in rows} == python_buckets(counts, model)
        assert {r.n_samples for r in rows} == {k}
        assert sum(r.share_of_questions for r in rows) == pytest.approx(1.0)
    # dbt-a: q3 none of 5, q2 one, q1 three, q4 four; two and five correct are empty buckets
    assert python_buckets(counts, A) == {0: 1, 1: 1, 2: 0, 3: 1, 4: 1, 5: 0}


def test_the_leaderboard_sets_every_rft_checkpoint_against_its_models_sft(built, spark):
    rows = {(r.model, r.training_set, r.metric): r for r in mart(spark, "accuracy_leaderboard", IN_MODELS)}
    assert set(rows) == {(m, t, metric) for m, _, t, metric in EVALS}
    everyone = spark.sql("SELECT metric, accuracy FROM rft.eval_results").collect()
    for (model, training_set, metric), row in rows.items():
        expected = python_leaderboard_row(model, training_set, metric)
        for column, value in expected.items():
            assert getattr(row, column) == (value if value is None else pytest.approx(value, abs=1e-6)), column
        assert row.rank == 1 + sum(1 for e in everyone if e.metric == metric and e.accuracy > row.accuracy)
        assert row.n_train_steps is not None and row.sft_n_steps is not None
    union = rows[(A, "union", "maj1@1")]
    assert union.gain == pytest.approx(0.35) and union.is_gain_significant  # 15/20 against 8/20
    assert not rows[(B, f"own:{B}", "maj1@1")].is_gain_significant  # 5/20 against 5/20


def assert_agrees(row, expected: dict, what) -> None:
    for column, value in expected.items():
        assert getattr(row, column) == (None if value is None else pytest.approx(value, abs=1e-6)), (what, column)


def test_the_scaling_marts_agree_with_the_python_owners_on_the_same_cells(built, lake, spark):
    """rft.studies fits the laws, pools the seeds and takes the differences; the marts restate them in SQL."""
    expected = owner_study_figures(lake)
    for study in ("rft_vs_k", "sft_vs_data"):
        rows = mart(spark, f"scaling_{study}", IN_MODELS)
        for row in rows:
            want = dict(expected[(study, row.model)])
            line = want.pop("paths_line", None)
            assert_agrees(row, want, study)
            if line is not None:  # Pearson's r of the line in distinct paths: r^2 is its R^2, the slope's sign its own
                assert row.corr_accuracy_distinct_paths ** 2 == pytest.approx(line.r2)
                assert (row.corr_accuracy_distinct_paths < 0) == (line.b < 0)
    a_by_k = {r.k: r for r in mart(spark, "scaling_rft_vs_k", where_in("model", [A]))}
    assert sorted(a_by_k) == [1, 2, 4] and a_by_k[1].n_cells == 3  # the newest setting only
    assert a_by_k[1].law_slope < 0  # accuracy falls with k in these cells

    for row in mart(spark, "scaling_rft_vs_diversity", IN_MODELS):
        assert_agrees(row, expected[("rft_vs_diversity", row.model, row.selection)], row.selection)
    gains = mart(spark, "scaling_union_gain", IN_MODELS)
    assert sorted(r.model for r in gains) == [A, B]
    for row in gains:
        assert_agrees(row, expected[("union_gain", row.model)], "union_gain")

    pretrain = mart(spark, "scaling_pretrain_loss")  # one line per stage across every model
    assert {(A, "sft"), (A, "rft"), (B, "sft"), (B, "rft")} <= {(r.model, r.stage) for r in pretrain}
    for row in pretrain:
        assert_agrees(row, expected[("pretrain_loss", row.stage)], row.stage)


def test_the_rule_test_fails_when_a_distinct_path_lost_its_verdict(built, lake, spark_resource):
    """dbt-b's only correct path for q3 loses its verdict: q3 then has a distinct path but none correct."""
    (lost,) = [r.path_id for r in built["rows"]["verified"] if r.model == B and r.question_id == "dbt-q3" and r.is_correct]
    lake.spark.sql(f"DELETE FROM rft.verified_paths WHERE path_id = '{lost}'")
    target = built["home"] / "runs" / "dbt" / "broken"
    with dbt_environment(spark_resource.server_config().url):
        build = dbt_resource().cli(["build", "--select", "question_path_counts"], raise_on_error=False,
                                   target_path=target)
    build.wait()
    assert not build.is_successful()
    failed = {r["unique_id"].split(".")[2]: r["failures"] for r in build.get_artifact("run_results.json")["results"]
              if r["status"] == "fail"}
    assert failed == {"question_distinct_le_correct_le_sampled": 2}  # own:dbt-b and the union, for q3
