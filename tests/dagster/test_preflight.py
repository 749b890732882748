"""Bad configuration and a broken environment are clear errors before any work starts.

"Before any work" is checked on disk: no Spark server was started for the warehouse
(`warehouse/_spark` is where its lock and state go), no step ran (`runs/` and `checkpoints/`
are empty) and Dagster recorded no run.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from rft.home import PROJECT_ROOT
from rft_dagster.cli import main

SMOKE = PROJECT_ROOT / "configs" / "smoke.yaml"


@pytest.fixture
def clean_env(monkeypatch):
    """`rft` sets these for the process; monkeypatch puts them back afterwards."""
    for name in ("RFT_HOME", "RFT_CONFIG", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "unset-by-test")
        monkeypatch.delenv(name)
    monkeypatch.delenv("RFT_SPARK_REMOTE", raising=False)


def assert_no_work_started(home: Path) -> None:
    assert not (home / "warehouse" / "_spark").exists(), "a Spark server was started"
    for folder in ("runs", "checkpoints"):
        assert not any((home / folder).iterdir()) if (home / folder).exists() else True, folder
    if (home / "dagster" / "history").exists():
        instance = DagsterInstance.from_config(str(home / "dagster"))
        assert instance.get_runs() == []
        instance.dispose()


def test_an_unknown_model_is_refused_before_spark_starts(tmp_path, clean_env, capsys):
    assert main(["--home", str(tmp_path), "run", "--config", str(SMOKE), "--models", "tiny-llama-a", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "rft models add nope" in err
    assert_no_work_started(tmp_path)
    assert main(["--home", str(tmp_path), "backfill", "nope", "--config", str(SMOKE)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert_no_work_started(tmp_path)


@pytest.mark.parametrize("setting, field", [
    ("sampling: {k: 0}", "sampling.k"),
    ("sampling: {k: -3}", "sampling.k"),
    ("sampling: {temperature: -0.1}", "sampling.temperature"),
    ("evaluation: {temperature: -1}", "evaluation.temperature"),
])
def test_impossible_sampling_settings_are_refused_before_any_work(tmp_path, clean_env, capsys, setting, field):
    config = tmp_path / "bad.yaml"
    config.write_text(setting)
    assert main(["--home", str(tmp_path / "home"), "run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and field in err
    assert_no_work_started(tmp_path / "home")


def test_a_warehouse_that_cannot_be_written_is_refused_before_any_work(tmp_path, clean_env, capsys):
    # As root, permission bits stop nothing: a regular file where the folder should be does.
    home = tmp_path / "home"
    home.mkdir()
    (home / "warehouse").write_text("not a folder")
    assert main(["--home", str(home), "run", "--config", str(SMOKE)]) == 2
    assert f"the warehouse {home / 'warehouse'} is not writable" in capsys.readouterr().err
    assert main(["--home", "/proc/rft-home", "tables"]) == 2  # /proc takes no new folders, not even root's
    assert "RFT_HOME /proc/rft-home is not writable" in capsys.readouterr().err
    assert_no_work_started(home)


def rft_without_java(args: list[str], java_home: str | None, tmp_path: Path) -> subprocess.CompletedProcess:
    """`rft ...` in a fresh process whose PATH has no java (and JAVA_HOME as given)."""
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "RFT_SPARK_REMOTE", "DAGSTER_HOME")}
    env |= {"PATH": str(tmp_path / "bin"), "PYTHONPATH": str(PROJECT_ROOT)}
    if java_home:
        env["JAVA_HOME"] = java_home
    (tmp_path / "bin").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "rft_dagster.cli", "--home", str(tmp_path / "home"), *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


@pytest.mark.parametrize("java_home, message", [
    ("/nonexistent/jdk-17", "JAVA_HOME is /nonexistent/jdk-17, which has no bin/java"),
    (None, "Java was not found (no `java` on PATH and JAVA_HOME unset)"),
])
def test_no_java_is_a_clear_error_before_any_work(tmp_path, java_home, message):
    gens = tmp_path / "gens.jsonl"
    gens.write_text('{"model": "m", "question_id": "q", "sample_idx": 0, "text": "#### 1"}\n')
    for args in (["run", "--config", str(SMOKE)], ["import", str(gens), "--questions", str(gens)], ["ui"]):
        done = rft_without_java(args, java_home, tmp_path)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert done.stderr.startswith(f"rft: error: {message}") and "Java 17" in done.stderr, args
        assert_no_work_started(tmp_path / "home")
