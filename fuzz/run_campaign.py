"""The long fuzz campaign (issue 20, item 4): each target for a fixed number of inputs, results
into benches/results/fuzz_stats.json under "campaign".

    python fuzz/run_campaign.py                          # every target, its default share
    python fuzz/run_campaign.py --targets import_jsonl --runs 50000

Targets run one after another (one process: the machine is shared), under `nice -n 10`, with
libFuzzer's -print_final_stats=1; the final `cov:` / `ft:` and the executed-unit count come from
its output. Each target keeps its corpus in fuzz/corpus/<target>/ (what libFuzzer found, not the
seeds) and failing inputs in fuzz/crashes/<target>/. A rerun continues from the corpus there.
The top-level fuzz_inputs becomes the total over every recorded run, and fuzz_failures what the
latest run of each target still finds (`--after-fix` reruns, once crashes are fixed, supersede).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
STATS = ROOT / "benches" / "results" / "fuzz_stats.json"

# Shares of the 1,000,000 inputs: the pure-Python filter is the main attack surface (model output).
TARGETS = {
    "verification": {
        "harness": ["fuzz/fuzz_verification.py"], "runs": 700_000, "seeds": "fuzz/seeds",
        "flags": ["-dict=fuzz/verification.dict", "-max_len=4096"],
        "covers": ["rft.filter.answers.extract_answer", "rft.filter.arithmetic.evaluate",
                   "rft.filter.equations.check_equation", "rft.filter.equations.equation_list",
                   "rft.filter.path_verdict.verify_path"],
    },
    "import_jsonl": {
        "harness": ["fuzz/fuzz_import_files.py", "--format=jsonl"], "runs": 150_000,
        "seeds": "fuzz/seeds_import/jsonl", "flags": ["-dict=fuzz/import_jsonl.dict", "-max_len=4096"],
        "covers": ["rft.ingest.generation_files.read_records (.jsonl)"],
    },
    "import_parquet": {
        "harness": ["fuzz/fuzz_import_files.py", "--format=parquet"], "runs": 150_000,
        "seeds": "fuzz/seeds_import/parquet", "flags": ["-max_len=8192"],
        "covers": ["rft.ingest.generation_files.read_records (.parquet)"],
    },
}
STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)", re.M)
EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")


def command(name: str, runs: int, seed: int) -> list[str]:
    target = TARGETS[name]
    scratch = Path("/tmp") / f"rft-fuzz-{name}.stats.json"
    return ["nice", "-n", "10", sys.executable, *target["harness"], f"-runs={runs}", f"-seed={seed}",
            *target["flags"], "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
            f"-artifact_prefix=fuzz/crashes/{name}/", f"--stats={scratch}",
            f"--failures=fuzz/crashes/{name}",
            f"fuzz/corpus/{name}", target["seeds"]]


def size(folder: Path) -> dict:
    files = [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def run(name: str, runs: int, seed: int) -> dict:
    (ROOT / "fuzz" / "corpus" / name).mkdir(parents=True, exist_ok=True)
    (ROOT / "fuzz" / "crashes" / name).mkdir(parents=True, exist_ok=True)
    argv = command(name, runs, seed)
    scratch = Path(next(a for a in argv if a.startswith("--stats=")).split("=", 1)[1])
    scratch.unlink(missing_ok=True)  # no stale counts from an earlier run
    print(f"== {name}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, errors="replace",
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # this checkout's rft
    seconds = round(time.monotonic() - started, 1)
    statuses = STATUS.findall(done.stderr)
    executed = EXECUTED.search(done.stderr)
    harness = json.loads(scratch.read_text()) if scratch.exists() else {"fuzz_failures": 0, "failures": []}
    # A libFuzzer stop (timeout, memory, a native crash) is a finding the harness could not count.
    crashes = harness["fuzz_failures"] + int(done.returncode != 0)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
    result = {
        "command": "PYTHONPATH=. " + " ".join("python" if a == sys.executable else a for a in argv),
        "covers": TARGETS[name]["covers"],
        "executions": int(executed.group(1)) if executed else 0,
        "wall_seconds": seconds,
        "coverage": {"cov": int(statuses[-1][1]), "ft": int(statuses[-1][2])} if statuses else None,
        "corpus": size(ROOT / "fuzz" / "corpus" / name),
        "crashes": crashes,
        "failures": harness["failures"],
        "exit_code": done.returncode,
    }
    print(f"   {result['executions']} inputs in {seconds}s, {result['coverage']}, {crashes} crashes", flush=True)
    return result


def record(results: dict, after_fix: bool) -> None:
    stats = json.loads(STATS.read_text()) if STATS.exists() else {}
    campaign = stats.get("campaign", {"targets": {}})
    campaign.setdefault("after_fix", {})
    campaign["after_fix" if after_fix else "targets"].update(results)
    runs = [*campaign["targets"].values(), *campaign["after_fix"].values()]
    # What still fails: each target's latest run (the rerun after a fix supersedes the first).
    latest = {**campaign["targets"], **campaign["after_fix"]}
    campaign.update({
        "date": datetime.now(timezone.utc).date().isoformat(),
        "atheris": version("atheris"),
        "driver": "fuzz/run_campaign.py",
        "total_executions": sum(t["executions"] for t in runs),
        "crashes_found": sum(t["crashes"] for t in runs),
        "crashes_remaining": sum(t["crashes"] for t in latest.values()),
    })
    stats.update({"fuzz_inputs": campaign["total_executions"], "fuzz_failures": campaign["crashes_remaining"],
                  "campaign": campaign})
    STATS.write_text(json.dumps(stats, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=list(TARGETS))
    parser.add_argument("--runs", type=int, help="inputs per target (default: each target's share)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--after-fix", action="store_true",
                        help='a rerun once the crashes found are fixed: recorded under "after_fix"')
    args = parser.parse_args()
    for name in args.targets:
        # Recorded after each target, so a cut-short campaign still keeps what it did.
        record({name: run(name, args.runs or TARGETS[name]["runs"], args.seed)}, args.after_fix)
    print(f"recorded in {STATS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
