"""The `rft` command: helpful --help, clear errors before any work for bad input, and on a failed job."""

import subprocess
import sys

import dagster as dg
import pytest

from rft.config.rft_config import TaskConfig
from rft.home import Home
from rft.models.catalog import ModelCatalog, UnknownModelError
from rft.config.rft_config import RftConfig
from rft.task.source import load_questions
from rft.task.gsm8k import gsm8k_dir
from rft_dagster.cli import fail, main
from rft_dagster.console import command_output
from rft_dagster.job_runs import run_job
from rft_dagster.run_reports import JobFailed
from spark_jobs.server import ServerConfig, SparkServerError, ensure_server

GSM8K = gsm8k_dir()


def rft(*args, home):
    return subprocess.run(
        [sys.executable, "-m", "rft_dagster.cli", "--home", str(home), *args],
        capture_output=True, text=True, timeout=120,
    )


def test_help_lists_every_command(tmp_path):
    result = rft("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("demo", "run", "backfill", "models", "import", "spark", "sql", "tables", "datasets", "report", "ui",
                    "repair"):
        assert command in result.stdout
    assert "--verbose" in result.stdout and "logs/<command>-<time>.log" in result.stdout


def test_a_failed_job_names_its_run_the_error_and_the_log(tmp_path, capsys):
    @dg.asset
    def full_disk():
        raise dg.Failure("no space left on the warehouse disk")

    defs = dg.Definitions(assets=[full_disk], jobs=[dg.define_asset_job("disk_job", selection=[full_disk])])
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(JobFailed) as failed, command_output("run", Home(tmp_path), verbose=False) as log:
            run_job(defs, "disk_job", instance)
        (run,) = instance.get_runs()
    assert fail(failed.value, 1, with_notes=True) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"rft run: full log in {log}",
                                f"{'full_disk':<32} FAILED: no space left on the warehouse disk"]
    assert err.splitlines() == [f"rft: error: disk_job failed (run {run.run_id}; its events are in Dagit: rft ui)",
                                "  full_disk: no space left on the warehouse disk", f"  full log: {log}"]
    assert "STEP_FAILURE" in log.read_text()  # Dagster's own account, with the traceback


def test_repair_names_the_tables_it_knows_and_refuses_an_intact_log(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "repair", "distinct_path"]) == 2
    assert "unknown table 'distinct_path'" in capsys.readouterr().err
    table = tmp_path / "warehouse" / "tables" / "rft.db" / "distinct_paths" / "_delta_log"
    table.mkdir(parents=True)
    (table / "00000000000000000000.json").write_text('{"commitInfo": {}}\n')
    assert main(["--home", str(tmp_path), "repair", "distinct_paths"]) == 3
    assert "no damaged commit" in capsys.readouterr().err


def test_adding_an_unknown_model_names_it_and_what_is_known(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "models", "add", "tiny-lama-a"]) == 2
    err = capsys.readouterr().err
    assert "tiny-lama-a" in err and "tiny-llama-a" in err


def test_a_model_name_that_is_not_a_plain_word_is_refused(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "models", "add", "a'; DROP TABLE x", "--from", "tiny-llama-a"]) == 2
    assert "invalid model name" in capsys.readouterr().err


def test_models_added_from_a_folder_resolve_to_it(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    catalog = ModelCatalog(Home(tmp_path / "home"), RftConfig())
    catalog.add("mine", str(folder))
    spec = catalog.spec("mine")
    assert (spec.source, spec.path) == ("local", str(folder))
    with pytest.raises(UnknownModelError, match="rft models add"):
        catalog.spec("nobody")


def test_a_broken_config_fails_before_any_work(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("sampling: {k: -1}")
    assert main(["--home", str(tmp_path), "run", "--config", str(config)]) == 2
    assert "k" in capsys.readouterr().err


def test_an_unwritable_home_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--home", str(blocker / "home"), "tables"]) == 2
    assert "not writable" in capsys.readouterr().err


def test_missing_java_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    with pytest.raises(SparkServerError, match="Java 17"):
        ensure_server(ServerConfig(warehouse=tmp_path / "wh", port=1))


def test_questions_load_from_gsm8k_jsonl():
    task = TaskConfig(source="jsonl", train_path=str(GSM8K / "train.jsonl"), test_path=str(GSM8K / "test.jsonl"),
                      limit_train=5, limit_test=3)
    rows = load_questions(task)
    assert [r["split"] for r in rows] == ["train"] * 5 + ["test"] * 3
    assert rows[0]["question_id"] == "train-00000" and rows[0]["gold_answer"] == "72"
