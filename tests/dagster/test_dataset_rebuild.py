"""A training set is rebuilt row for row from its manifest after the tables have moved on.

A real Delta lakehouse and real Dagster materialisations of `rft_datasets`; the distinct paths
it reads are written directly (the filter has its own tests), first those of one model, then
a second model's, as `distinct_paths` would after a backfill.
"""

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from assets.training_sets import rft_datasets
from rft_dagster.cli import main
from spark_jobs.rft_datasets import ROW_COLUMNS, read_manifest, rebuild_rows
from spark_jobs.lakehouse import where_in
from spark_jobs.schemas import DISTINCT_PATHS, QUESTIONS, SAMPLED_PATHS

A, B = "rebuild-a", "rebuild-b"
QUESTION_ROWS = [  # split `import`: other tests' task runs neither train on nor sample these
    ("rebuild-q1", "import", "3 bags of 4 apples?", "3*4=<<3*4=12>>12\n#### 12", "12", "test"),
    ("rebuild-q2", "import", "2 boxes of 5 pens?", "2*5=<<2*5=10>>10\n#### 10", "10", "test"),
]
# (question, equation list, model, text): model A's correct paths, then the ones model B adds.
PATHS_A = [("rebuild-q1", "3*4=12", A, "3*4=<<3*4=12>>12 apples\n#### 12"),
           ("rebuild-q1", "4*3=12", A, "4*3=<<4*3=12>>12\n#### 12"),
           ("rebuild-q2", "2*5=10", A, "2*5=<<2*5=10>>10\n#### 10")]
PATHS_B = [("rebuild-q1", "4+4+4=12", B, "4+4+4=<<4+4+4=12>>12\n#### 12"),
           ("rebuild-q2", "5*2=10", B, "5*2=<<5*2=10>>10\n#### 10")]


def sampled(spark, model, n):
    rows = [(f"{model}-{i}", model, "rebuild-q1", i, 7, 1.0, "#### 12", "test", "run") for i in range(n)]
    return spark.createDataFrame(rows, SAMPLED_PATHS.required_schema)


def distinct(spark, paths):
    """Rows of rft.distinct_paths: each path in its model's own pool and in the union."""
    rows = [
        (pool, q, eqs, f"{model}:{eqs}", model, text, 0, 1, [model], [(model, f"{model}:{eqs}", 0, 0)], "test")
        for q, eqs, model, text in paths for pool in (f"own:{model}", "union")
    ]
    return spark.createDataFrame(rows, DISTINCT_PATHS.required_schema)


def rows_of(df) -> list[tuple]:
    """A set's rows, as the columns every version of rft_dataset_rows has."""
    return sorted(tuple(r) for r in df.select(*ROW_COLUMNS).collect())


@pytest.fixture(scope="module")
def history(spark_resource, lake, spark):
    """The sets built from model A's paths; then model B's paths added and every set rebuilt."""
    instance = DagsterInstance.ephemeral()
    lake.replace("questions", spark.createDataFrame(QUESTION_ROWS, QUESTIONS.schema), "question_id LIKE 'rebuild-%'")

    def add_model(model, paths):
        instance.add_dynamic_partitions("models", [model])
        lake.replace("sampled_paths", sampled(spark, model, 2), f"model = '{model}'")
        lake.replace("distinct_paths", distinct(spark, paths), "question_id LIKE 'rebuild-%'")
        assert materialize([rft_datasets], instance=instance, resources={"spark": spark_resource}).success

    add_model(A, PATHS_A)
    before = {
        "manifests_version": lake.version("rft_datasets"),
        "union": rows_of(lake.table("rft_dataset_rows").filter("dataset = 'union'")),
        "own": rows_of(lake.table("rft_dataset_rows").filter(f"dataset = 'own:{A}'")),
    }
    add_model(B, PATHS_A + PATHS_B)
    yield before
    spark.sql(f"DELETE FROM rft.sampled_paths WHERE {where_in('model', [A, B])}")
    spark.sql("DELETE FROM rft.questions WHERE question_id LIKE 'rebuild-%'")
    # These paths were never sampled or verified: leave none for other tests' relationship checks.
    for table in ("distinct_paths", "rft_dataset_rows"):
        spark.sql(f"DELETE FROM rft.{table} WHERE question_id LIKE 'rebuild-%'")


def test_every_manifest_names_the_delta_versions_it_read(history, lake):
    for manifest in lake.table("rft_datasets").collect():
        assert set(manifest["table_versions"]) == {"questions", "sampled_paths", "verified_paths", "distinct_paths"}
        assert manifest["rows_version"] == lake.version("rft_dataset_rows")


def test_a_set_is_rebuilt_row_for_row_after_more_rows_were_written(history, lake):
    now = rows_of(lake.table("rft_dataset_rows").filter("dataset = 'union'"))
    assert len(history["union"]) == 3 and len(now) == 5  # model B added distinct paths to the union

    old = read_manifest(lake, "union", as_of=history["manifests_version"])
    assert old["source_models"] == [A]
    assert rows_of(rebuild_rows(lake, old)) == history["union"]
    assert rows_of(rebuild_rows(lake, read_manifest(lake, "union"))) == now


def test_the_cli_rebuilds_a_set_with_question_texts_and_checks_it(history, spark_resource, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    out = tmp_path / "own.parquet"
    version = str(history["manifests_version"])
    assert main(["--home", str(tmp_path), "datasets", "rebuild", f"own:{A}", "--as-of", version, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"own:{A}: 3 paths over 2 questions" in printed and "identical to the stored rows" in printed

    rebuilt = pd.read_parquet(out)
    assert sorted(rebuilt.drop(columns="question").itertuples(index=False, name=None)) == history["own"]
    assert set(rebuilt["question"]) == {"3 bags of 4 apples?", "2 boxes of 5 pens?"}

    assert main(["--home", str(tmp_path), "datasets", "rebuild", "own:nobody"]) == 2
    assert "no training set 'own:nobody'" in capsys.readouterr().err

    assert main(["--home", str(tmp_path), "datasets", "list", "--as-of", version]) == 0
    listed = {cells[0]: cells for cells in (
        [c.strip() for c in line.split("|")[1:-1]] for line in capsys.readouterr().out.splitlines()[2:]
    )}
    assert set(listed) == {f"own:{A}", "union"}
    assert listed["union"][1:3] == [A, "2"] and listed["union"][5] == "3"  # models, k, distinct paths
    assert "distinct_paths " in listed["union"][8]  # the Delta versions it read

