"""A bounded coverage-guided fuzzing run of the filter's parsers (fuzz/fuzz_verification.py).

CI runs FUZZ_RUNS inputs from a fixed seed and records the count of inputs and of failures in
benches/results/fuzz_stats.json (read by the reliability report); when the file holds the long
campaign's results (fuzz/run_campaign.py, 1,000,000 inputs over five parsers and the import
readers), those stay, and this run goes under "ci_run". Longer runs by hand:

    python fuzz/fuzz_verification.py -max_total_time=3600 -dict=fuzz/verification.dict /tmp/corpus fuzz/seeds
"""

import json
import os
import subprocess
import sys
from importlib.metadata import version

from rft.home import PROJECT_ROOT

FUZZ_RUNS = 10_000
SEED = 1
HARNESS = PROJECT_ROOT / "fuzz" / "fuzz_verification.py"
STATS = PROJECT_ROOT / "benches" / "results" / "fuzz_stats.json"


def test_fuzzing_the_parsers_finds_no_failure(tmp_path):
    corpus = tmp_path / "corpus"  # libFuzzer adds what it finds to the first folder: not the seeds
    corpus.mkdir()
    stats = tmp_path / "stats.json"
    command = [sys.executable, str(HARNESS), f"-runs={FUZZ_RUNS}", f"-seed={SEED}", "-max_len=20000",
               "-timeout=120", "-rss_limit_mb=2048", f"-dict={PROJECT_ROOT / 'fuzz' / 'verification.dict'}",
               f"--stats={stats}", str(corpus), str(PROJECT_ROOT / "fuzz" / "seeds")]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}  # this checkout's rft, whatever is installed
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    found = json.loads(stats.read_text()) if stats.exists() else {"fuzz_inputs": 0, "fuzz_failures": 0, "failures": []}
    crashed = done.returncode != 0  # a libFuzzer timeout or memory limit: the harness itself never raises
    record = {
        "fuzz_inputs": found["fuzz_inputs"],
        "fuzz_failures": found["fuzz_failures"] + int(crashed),
        "runs_requested": FUZZ_RUNS, "seed": SEED, "harness": "fuzz/fuzz_verification.py",
        "targets": ["rft.filter.answers.extract_answer", "rft.filter.arithmetic.evaluate", "rft.filter.equations.check_equation",
                    "rft.filter.equations.equation_list", "rft.filter.path_verdict.verify_path"],
        "atheris": version("atheris"), "failures": found["failures"],
    }
    STATS.write_text(json.dumps(with_campaign(record), indent=2) + "\n")
    assert not crashed, done.stderr[-3000:]
    assert found["fuzz_inputs"] == FUZZ_RUNS
    assert found["fuzz_failures"] == 0, found["failures"]


def with_campaign(record: dict) -> dict:
    """The long campaign's figures (fuzz/run_campaign.py) are kept: its totals stay the top-level
    counts, with this short run's failures added so a CI failure still shows."""
    try:
        campaign = json.loads(STATS.read_text())["campaign"]
    except (FileNotFoundError, KeyError, ValueError):
        return record
    return {**record, "fuzz_inputs": campaign["total_executions"],
            "fuzz_failures": campaign["crashes_remaining"] + record["fuzz_failures"],
            "ci_run": {"fuzz_inputs": record["fuzz_inputs"], "fuzz_failures": record["fuzz_failures"]},
            "campaign": campaign}
