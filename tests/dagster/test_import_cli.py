"""`rft import` into a real lakehouse: GSM8K questions, two external models, verified and deduped.

The CLI runs in this process against the session's Spark server (RFT_SPARK_REMOTE), with its
own RFT_HOME and Dagster instance.
"""

import hashlib
import json

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.questions import questions as questions_asset
from assets.sampled_paths import sampled_paths
from rft.home import PROJECT_ROOT
from rft.task.gsm8k import gsm8k_dir
from rft_dagster.cli import main
from rft_dagster.definitions import build_definitions
from rft_dagster import pipeline
from rft_dagster.pipeline import backfill_model
from rft_dagster.resources import RftSettings, StepRunner

GSM8K_TRAIN = gsm8k_dir() / "train.jsonl"
SMOKE = PROJECT_ROOT / "configs" / "smoke.yaml"
A, B = "ext-a", "ext-b"


def gsm8k_lines(n):
    return [json.loads(line) for line in GSM8K_TRAIN.read_text().splitlines()[:n]]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def generations(questions):
    natalia, weng = questions[0], questions[1]
    return [
        # Natalia's gold solution, twice in other words: one equation list, so one distinct path.
        {"model": A, "question_id": "train-00000", "sample_idx": 0, "text": natalia["answer"]},
        {"model": A, "question_id": "train-00000", "sample_idx": 1, "text": "In May: " + natalia["answer"]},
        {"model": A, "question_id": "train-00000", "sample_idx": 2, "text": "She sold 70.\n#### 70"},
        {"model": A, "question": weng["question"], "sample_idx": 0, "text": weng["answer"], "temperature": 0.7},
        {"model": B, "question_id": "train-00000", "sample_idx": 0, "text": natalia["answer"], "seed": 11},
        {"model": B, "question_id": "train-00001", "sample_idx": 0, "text": "x" * 2_000_000 + "\n#### 10"},
    ]


def snapshot(spark):
    def rows(query):
        return [tuple(r) for r in spark.sql(query).collect()]

    return {
        "sampled": rows(f"SELECT model, count(*), count(DISTINCT path_id), min(backend) FROM rft.sampled_paths "
                        f"WHERE model IN ('{A}', '{B}') GROUP BY model ORDER BY model"),
        "verified": rows(f"SELECT model, count(*), sum(cast(is_correct AS INT)) FROM rft.verified_paths "
                         f"WHERE model IN ('{A}', '{B}') GROUP BY model ORDER BY model"),
        "distinct": rows("SELECT pool, question_id, n_producers, producer_models FROM rft.distinct_paths "
                         "ORDER BY pool, question_id"),
        "questions": rows("SELECT question_id, split, gold_answer FROM rft.questions WHERE split = 'import' "
                          "ORDER BY question_id"),
    }


@pytest.fixture(scope="module")
def imported(spark_resource, spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("import")
    home = tmp / "home"
    questions_file = tmp / "train.jsonl"  # GSM8K's format and file name: ids train-00000, ...
    write_jsonl(questions_file, gsm8k_lines(3))
    gens = write_jsonl(tmp / "gens.jsonl", generations(gsm8k_lines(3)))
    states = {"home": home, "gens": gens, "questions_file": questions_file}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
        env.setenv("RFT_HOME", str(home))
        env.setenv("DAGSTER_HOME", str(home / "dagster"))
        env.delenv("RFT_CONFIG", raising=False)
        for attempt in ("first", "again"):
            states[f"rc_{attempt}"] = main(["--home", str(home), "import", str(gens), "--questions", str(questions_file)])
            states[attempt] = snapshot(spark)
        states["run_ids"] = [tuple(r) for r in spark.sql(
            f"SELECT DISTINCT run_id FROM rft.sampled_paths WHERE model = '{A}'").collect()]
        instance = DagsterInstance.get()
        resources = {"spark": spark_resource, "settings": RftSettings(config_file=str(SMOKE), home=str(home)),
                     "steps": StepRunner()}
        states.update(instance=instance, resources=resources)
        yield states
        instance.dispose()


def test_every_row_is_imported_verified_and_deduped(imported):
    state = imported["first"]
    assert imported["rc_first"] == 0
    assert state["sampled"] == [(A, 4, 4, "import"), (B, 2, 2, "import")]
    assert state["verified"] == [(A, 4, 3), (B, 2, 1)]  # the 2 MB text is kept, and rejected
    union = [row for row in state["distinct"] if row[0] == "union"]
    # Natalia: three correct paths of A and B share one equation list; Weng: one path of A.
    assert union == [("union", "train-00000", 3, [A, B]), ("union", "train-00001", 1, [A])]


def test_path_ids_are_the_ones_sampling_would_give(imported, spark):
    (row,) = spark.sql(f"SELECT path_id FROM rft.sampled_paths WHERE model = '{A}' AND sample_idx = 2").collect()
    assert row.path_id == hashlib.sha1(f"{A}|train-00000|2".encode()).hexdigest()


def test_the_questions_answered_are_written_once_with_gsm8k_ids_and_gold_answers(imported):
    assert imported["first"]["questions"] == [("train-00000", "import", "72"), ("train-00001", "import", "10")]


def test_importing_again_replaces_rows_and_adds_none(imported):
    assert imported["rc_again"] == 0
    assert imported["again"] == imported["first"]
    assert len(imported["run_ids"]) == 1  # the second import's id replaced the first's


def test_imported_models_are_partitions_with_their_assets_materialised(imported):
    instance = imported["instance"]
    assert set(instance.get_dynamic_partitions("models")) == {A, B}
    for asset in ("sampled_paths", "verified_paths"):  # sampled_paths: recorded by the import itself
        assert instance.get_materialized_partitions(AssetKey(asset)) == {A, B}, asset
    assert instance.get_latest_materialization_event(AssetKey("distinct_paths")) is not None


def test_models_list_shows_imported_models_as_such(imported, capsys):
    assert main(["--home", str(imported["home"]), "models", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{A}\timport\t(generations loaded with rft import)", f"{B}\timport\t(generations loaded with rft import)",
    ]


def test_the_questions_asset_leaves_imported_questions_alone(imported, spark):
    result = materialize([questions_asset], instance=imported["instance"], resources=imported["resources"])
    assert result.success
    assert snapshot(spark)["questions"] == imported["first"]["questions"]


def test_imported_models_are_never_sampled(imported, spark):
    defs = build_definitions(imported["resources"])
    with pytest.raises(ValueError, match="rft import"):
        backfill_model(A, instance=imported["instance"], defs=defs)
    result = materialize([sampled_paths], partition_key=A, instance=imported["instance"],
                         resources=imported["resources"], raise_on_error=False)
    assert not result.success
    assert snapshot(spark)["sampled"] == imported["first"]["sampled"]


def test_training_after_a_backfill_skips_imported_models(imported, monkeypatch):
    jobs = []
    monkeypatch.setattr(pipeline, "run_job", lambda defs, job, instance, key=None: jobs.append((job, key)))
    pipeline._cross_model_and_rft(build_definitions(imported["resources"]), imported["instance"])
    assert jobs == [("cross_model_job", None)]  # no rft_job for ext-a or ext-b


def test_a_bad_row_fails_the_whole_import_before_any_write(imported, spark, tmp_path, capsys):
    bad = write_jsonl(tmp_path / "gens.jsonl", [
        {"model": "ext-c", "question_id": "train-00000", "sample_idx": 0, "text": "#### 72"},
        {"model": "ext-c", "question_id": "train-00009", "sample_idx": 0, "text": "#### 72"},
    ])
    rc = main(["--home", str(imported["home"]), "import", str(bad), "--questions", str(imported["questions_file"])])
    assert rc == 2
    assert f"{bad}:2: question_id 'train-00009' is not in" in capsys.readouterr().err
    assert spark.sql("SELECT count(*) AS n FROM rft.sampled_paths WHERE model = 'ext-c'").collect()[0].n == 0
    assert "ext-c" not in imported["instance"].get_dynamic_partitions("models")


GOOD_D = {"model": "ext-d", "question_id": "train-00002", "sample_idx": 0, "text": "#### 5"}
GOOD_E = {"model": "ext-e", "question_id": "train-00002", "sample_idx": 0, "text": "#### 5"}
BAD_THIRD_LINES = {  # the problems the import must name, as the third line of a file
    "truncated": (json.dumps(GOOD_D | {"sample_idx": 1})[:-5]).encode(),
    "wrong type": json.dumps(GOOD_D | {"sample_idx": "1"}).encode() + b"\n",
    "missing field": json.dumps({k: v for k, v in GOOD_D.items() if k != "text"}).encode() + b"\n",
    "invalid UTF-8": b'{"model": "ext-d", "question_id": "train-00002", "sample_idx": 1, "text": "caf\xe9"}\n',
    "duplicated key": json.dumps(GOOD_D | {"text": "another text"}).encode() + b"\n",
    "unpaired surrogate": json.dumps(GOOD_D | {"sample_idx": 1, "text": "\ud800"}).encode() + b"\n",
    "megabyte line cut short": json.dumps(GOOD_D | {"sample_idx": 1, "text": "7" * 1_000_000}).encode()[:-3],
}
PROBLEMS = {"truncated": "truncated", "wrong type": "must be an integer", "missing field": "'text' is missing",
            "invalid UTF-8": "invalid UTF-8", "duplicated key": "duplicate of", "unpaired surrogate": "surrogate",
            "megabyte line cut short": "truncated"}


def test_each_kind_of_bad_line_fails_the_whole_import_before_any_write(imported, spark, tmp_path, capsys):
    home = imported["home"]
    before = (snapshot(spark), sorted((home / "runs" / "import").iterdir()))
    for kind, bad_line in BAD_THIRD_LINES.items():
        gens = tmp_path / f"{kind.replace(' ', '-')}.jsonl"
        gens.write_bytes(json.dumps(GOOD_D).encode() + b"\n" + json.dumps(GOOD_E).encode() + b"\n" + bad_line)
        rc = main(["--home", str(home), "import", str(gens), "--questions", str(imported["questions_file"])])
        err = capsys.readouterr().err
        assert rc == 2, kind
        assert err.startswith(f"rft: error: {gens}:3: ") and PROBLEMS[kind] in err and len(err) < 400, (kind, err)
    after = (snapshot(spark), sorted((home / "runs" / "import").iterdir()))
    assert after == before  # no row, question or staged file from any of these imports
    new_rows = spark.sql("SELECT count(*) AS n FROM rft.sampled_paths WHERE model IN ('ext-d', 'ext-e')")
    assert new_rows.collect()[0].n == 0
    assert not {"ext-d", "ext-e"} & set(imported["instance"].get_dynamic_partitions("models"))
