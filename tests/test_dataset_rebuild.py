"""A training set is rebuilt row for row from its manifest after the tables have moved on.

Real Dagster materialisations of verified_paths, distinct_paths and rft_datasets on a real
lakehouse, for two models whose paths are written directly (no training or sampling needed).
"""

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from assets.datasets import rft_datasets
from assets.filtering import distinct_paths, verified_paths
from rft_dagster.cli import main
from spark_jobs.datasets import read_manifest, rebuild_rows
from spark_jobs.lakehouse import where_in
from spark_jobs.schemas import QUESTIONS, SAMPLED_PATHS

A, B = "rebuild-a", "rebuild-b"
QUESTION_ROWS = [  # split `import`: other tests' task runs neither train on nor sample these
    ("rebuild-q1", "import", "3 bags of 4 apples?", "3*4=<<3*4=12>>12\n#### 12", "12", "test"),
    ("rebuild-q2", "import", "2 boxes of 5 pens?", "2*5=<<2*5=10>>10\n#### 10", "10", "test"),
]
PATHS = {
    A: ["3*4=<<3*4=12>>12 apples\n#### 12", "4*3=<<4*3=12>>12\n#### 12", "2*5=<<2*5=10>>10\n#### 10"],
    # Later: one path already known, two new equation lists, one wrong answer.
    B: ["3*4=<<3*4=12>>12\n#### 12", "4+4+4=<<4+4+4=12>>12\n#### 12", "5*2=<<5*2=10>>10\n#### 10", "#### 11"],
}


def sampled(spark, model):
    rows = [
        (f"{model}-{i}", model, f"rebuild-q{1 + (i >= 2)}", i, 7, 1.0, text, "test", "run")
        for i, text in enumerate(PATHS[model])
    ]
    return spark.createDataFrame(rows, SAMPLED_PATHS.schema)


def rows_of(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


@pytest.fixture(scope="module")
def history(spark_resource, lake, spark):
    """The union set built from model A, then model B's paths added and every set rebuilt."""
    instance = DagsterInstance.ephemeral()
    resources = {"spark": spark_resource}
    lake.replace("questions", spark.createDataFrame(QUESTION_ROWS, QUESTIONS.schema), "question_id LIKE 'rebuild-%'")

    def add_model(model):
        instance.add_dynamic_partitions("models", [model])
        lake.replace("sampled_paths", sampled(spark, model), f"model = '{model}'")
        assert materialize([verified_paths], partition_key=model, instance=instance, resources=resources).success
        assert materialize([distinct_paths, rft_datasets], instance=instance, resources=resources).success

    add_model(A)
    before = {
        "manifests_version": lake.version("rft_datasets"),
        "union": rows_of(lake.table("rft_dataset_rows").filter("dataset = 'union'")),
        "own": rows_of(lake.table("rft_dataset_rows").filter(f"dataset = 'own:{A}'")),
    }
    add_model(B)
    yield before
    for table in ("sampled_paths", "verified_paths"):
        spark.sql(f"DELETE FROM rft.{table} WHERE {where_in('model', [A, B])}")
    spark.sql("DELETE FROM rft.questions WHERE question_id LIKE 'rebuild-%'")


def test_every_manifest_names_the_delta_versions_it_read(history, lake):
    for manifest in lake.table("rft_datasets").collect():
        assert set(manifest["table_versions"]) == {"questions", "sampled_paths", "verified_paths", "distinct_paths"}
        assert manifest["rows_version"] == lake.version("rft_dataset_rows")


def test_a_set_is_rebuilt_row_for_row_after_more_rows_were_written(history, lake):
    now = rows_of(lake.table("rft_dataset_rows").filter("dataset = 'union'"))
    assert len(now) > len(history["union"])  # model B added distinct paths to the union

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

