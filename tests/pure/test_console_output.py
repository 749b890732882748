"""What a command prints: a line per stage, where to look next; the rest goes to its log file."""

import io
import logging
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from rft.home import Home
from rft_dagster.console import StageHandler, command_output, log_path, next_steps, rft_command
from rft_dagster.job_runs import RUNNING, stages
from rft_dagster.run_reports import StepReport, report_line, rows_written, stage_line, step_summary


def test_rows_come_from_the_rows_metadata_or_the_examples_trained_on():
    assert rows_written({"rows": 7473, "k": 4}) == "7,473 rows"
    assert rows_written({"n_examples": 200, "final_loss": 0.5}) == "200 examples"
    assert rows_written({"own:a/n_examples": 240, "union/n_examples": 300}) == "540 examples, 2 checkpoints"
    assert rows_written({"results": "| table |"}) == ""


def test_a_step_of_one_asset_is_named_by_the_asset_and_its_partition():
    step = StepReport("sampled_paths", assets=[("sampled_paths", "tiny-llama-a", {"rows": 640})], seconds=12.34)
    assert step_summary(step) == ("sampled_paths[tiny-llama-a]", "640 rows")
    line = report_line(step)
    assert line.startswith("sampled_paths[tiny-llama-a] ") and line.endswith(" 640 rows     12.3 s")


def test_a_step_of_many_assets_counts_them_and_its_checks():
    step = StepReport("marts", assets=[(f"mart_{i}", None, {}) for i in range(3)], checks=[True, True, False],
                      seconds=4.0)
    assert step_summary(step) == ("marts", "3 assets, 2/3 checks passed")


def test_stage_lines_line_up_and_say_what_failed_or_did_not_run():
    a, b = stage_line("questions", "60 rows", 1.0), stage_line("verified_paths[tiny-llama-a]", "80 rows", 12.5)
    assert len(a) == len(b) and a.index(" s") == b.index(" s")
    failed = StepReport("rft_model", error="RFT set 'union' is not in rft.rft_datasets")
    assert report_line(failed) == f"{'rft_model':<32} FAILED: RFT set 'union' is not in rft.rft_datasets"
    assert "not run" in report_line(StepReport("eval_results"))


def test_next_steps_name_the_home_they_were_given_and_the_log():
    home = Home(Path("/data/rft home"))
    rft = rft_command("/data/rft home")
    assert rft == "rft --home '/data/rft home'" and rft_command(None) == "rft"
    text = next_steps(rft, home, Path("/data/rft home/logs/demo.log"))
    assert f"{rft} ui" in text and f"{rft} sql" in text and "/data/rft home/report.html" in text
    assert text.splitlines()[-1] == "  full log: /data/rft home/logs/demo.log"
    assert "full log" not in next_steps("rft", home, None)  # --verbose: no log file
    assert log_path(home, "demo", datetime(2025, 6, 1, 9, 5, 7)) == home.root / "logs" / "demo-20250601-090507.log"


def test_a_terminal_sees_what_runs_until_its_stage_lines_replace_it():
    def show(transient):
        stream, logger = io.StringIO(), logging.getLogger(f"test_console_output.{transient}")
        logger.addHandler(StageHandler(stream, transient))
        logger.setLevel(logging.INFO)
        logger.info("per_model_job[a] ...", extra=RUNNING)
        logger.info("sampled_paths[a]  640 rows")
        return stream.getvalue()

    assert show(transient=True) == "per_model_job[a] ...\r\x1b[Ksampled_paths[a]  640 rows\n"
    assert show(transient=False) == "sampled_paths[a]  640 rows\n"  # a file or pipe gets no redraws


def test_quiet_output_keeps_the_console_for_stage_lines_and_sends_the_rest_to_the_log(tmp_path, monkeypatch):
    console = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stdout", console)
    child = "import sys; print('from the step'); print('step warning', file=sys.stderr)"
    with command_output("run", Home(tmp_path), verbose=False) as log:
        print("Dagster's own output")
        subprocess.run([sys.executable, "-c", child], check=True)  # inherits descriptors 1 and 2
        stages.info("questions  60 rows  1.0 s")
    assert console.getvalue().splitlines() == [f"rft run: full log in {log}", "questions  60 rows  1.0 s"]
    text = log.read_text()
    for line in ("Dagster's own output", "from the step", "step warning", "rft: questions  60 rows  1.0 s"):
        assert line in text
    assert log.parent == tmp_path / "logs" and sys.stdout is console


def test_verbose_output_stays_on_the_console_with_the_stage_lines_marked(tmp_path, monkeypatch):
    console = io.StringIO()
    monkeypatch.setattr(sys, "stdout", console)
    with command_output("run", Home(tmp_path), verbose=True) as log:
        print("Dagster's own output")
        stages.info("per_model_job[a] ...", extra=RUNNING)
    assert log is None and not (tmp_path / "logs").exists()
    assert console.getvalue().splitlines() == ["Dagster's own output", "==> per_model_job[a] ..."]
