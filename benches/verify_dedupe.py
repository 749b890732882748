"""Verification + dedup throughput: the published procedure in one Python process vs our Spark jobs.

For each size, on the same synthetic input (benches/synthetic_paths.py, cached under --workdir):

- baseline: `benches.baseline` in a child process (one core): input files -> distinct paths;
- ours: the pipeline's Spark jobs on a fresh warehouse, through a Spark Connect server with
  `--master` (local[2] by default): input files -> rft.sampled_paths -> rft.verified_paths ->
  rft.distinct_paths, each a Delta commit with its key check, as the assets run them.

Both are timed end to end; peak memory is the peak summed PSS of every process involved (the
Spark server JVM, its Python workers, and this client), polled every 0.25 s; the baseline's is
its peak RSS (one process). The baseline runs only at sizes up to
--baseline-max-paths (it is slow). Ours and the baseline must agree on every distinct
(pool, question, equation list) and its producer count; the run fails otherwise.

    python -m benches.verify_dedupe --paths 1000000 10000000 --record
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

from benches.synthetic_paths import generate

RESULTS = Path(__file__).resolve().parent / "results"


class PeakRss:
    """Polls the summed memory of process trees until stopped.

    Proportional set size (PSS), not RSS: Spark's Python workers are forked from one daemon and
    share most pages, so summing their RSS counts those pages once per worker.
    """

    def __init__(self, pids: list[int], interval_s: float = 0.25):
        self.pids, self.interval_s, self.peak = pids, interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int:
        total = 0
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                for proc in [root, *root.children(recursive=True)]:
                    total += proc.memory_full_info().pss
            except psutil.Error:
                continue
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            time.sleep(self.interval_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def models_for(n_paths: int, k: int = 100, n_questions: int = 7473) -> int:
    """As many models as give about k samples per question each (the paper's k=100), at least 2."""
    return max(2, round(n_paths / (k * n_questions)))


def dataset(workdir: Path, n_paths: int, n_models: int) -> Path:
    folder = workdir / f"paths_{n_paths}_{n_models}m"
    manifest = folder / "manifest.json"
    if not manifest.exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, n_paths, n_models)
    return folder


def run_baseline(input_dir: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benches.baseline", str(input_dir), "--out", str(out)],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_ours(input_dir: Path, workdir: Path, master: str, driver_memory: str, shuffle_partitions: int, port: int,
             extra_conf: tuple[tuple[str, str], ...] = ()) -> dict:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from spark_jobs.distinct_paths import distinct_paths
    from spark_jobs.lakehouse import Lakehouse
    from spark_jobs.path_ids import path_id
    from spark_jobs.server import ServerConfig, ensure_server, read_state, stop_server
    from spark_jobs.verified_paths import verify_sampled_paths

    warehouse = workdir / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    cfg = ServerConfig(warehouse=warehouse, master=master, port=port, driver_memory=driver_memory,
                       shuffle_partitions=shuffle_partitions, extra_conf=extra_conf)
    started = time.perf_counter()
    url = ensure_server(cfg)
    spark = SparkSession.builder.remote(url).getOrCreate()
    stages: dict[str, float] = {}
    try:
        lake = Lakehouse(spark)
        lake.ensure_tables()
        questions = spark.read.parquet(str(input_dir / "questions.parquet")).select(
            "question_id", F.lit("train").alias("split"), "question", F.col("answer").alias("answer_text"),
            "gold_answer", F.lit(str(input_dir)).alias("source"))
        # A long-lived server is warm; the first Delta write of a fresh JVM costs ~10 s of class
        # loading and JIT, so it happens before the clock starts and is reported on its own.
        lake.replace("questions", questions)
        server_start_s = time.perf_counter() - started
        with PeakRss([read_state(cfg)["pid"], os.getpid()]) as rss:
            t0 = time.perf_counter()
            lake.replace("questions", questions)
            stages["questions"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            generations = spark.read.parquet(str(input_dir / "generations"))
            sampled = generations.select(
                path_id(F.col("model"), F.col("question_id"), F.col("sample_idx")).alias("path_id"),
                "model", "question_id", "sample_idx", F.lit(None).cast("bigint").alias("seed"),
                F.lit(None).cast("double").alias("temperature"), "text", F.lit("import").alias("backend"),
                F.lit("bench").alias("run_id"))
            n_sampled = lake.replace("sampled_paths", sampled)
            stages["sampled_paths"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            n_verified = lake.replace("verified_paths", verify_sampled_paths(lake.table("sampled_paths"), lake.table("questions")))
            stages["verified_paths"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            n_distinct = lake.replace("distinct_paths", distinct_paths(lake.table("verified_paths")),
                                      materialise=True)
            stages["distinct_paths"] = time.perf_counter() - t0
        keys = lake.table("distinct_paths").select("pool", "question_id", "equation_list", "n_producers").toPandas()
    finally:
        spark.stop()
        stop_server(cfg)
    return {"seconds": sum(stages.values()), "stages_s": {k: round(v, 1) for k, v in stages.items()},
            "from_sampled_paths_s": stages["verified_paths"] + stages["distinct_paths"],
            "server_start_and_warm_up_s": round(server_start_s, 1), "peak_rss_mb": round(rss.peak / 2**20),
            "n_sampled": n_sampled, "n_verified": n_verified, "distinct": n_distinct, "keys": keys}


def same_distinct_sets(ours_keys, baseline_parquet: Path) -> bool:
    base = pq.read_table(baseline_parquet, columns=["pool", "question_id", "equation_list", "n_producers"]).to_pandas()
    as_set = lambda df: set(map(tuple, df[["pool", "question_id", "equation_list", "n_producers"]].itertuples(index=False)))
    return as_set(ours_keys) == as_set(base)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} cores ({cpu}), {round(psutil.virtual_memory().total / 2**30)} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, nargs="+", default=[1_000_000], help="sizes to run (default 1M)")
    parser.add_argument("--models", type=int, default=None,
                        help="models in the synthetic input (default: enough for k of about 100 each, at least 2)")
    parser.add_argument("--baseline-max-paths", type=int, default=1_000_000, help="run the baseline up to this size")
    parser.add_argument("--master", default="local[2]", help="Spark master for ours (default local[2])")
    parser.add_argument("--driver-memory", default="12g", help="Spark driver memory (default 12g)")
    parser.add_argument("--shuffle-partitions", type=int, default=32)
    parser.add_argument("--port", type=int, default=15092)
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting (repeatable)")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"), help="data and warehouse (default .bench/)")
    parser.add_argument("--record", action="store_true", help="write benches/results/verify_dedupe.json and append to the log")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.resolve()  # the Spark server reads these paths from its own working folder
    args.workdir.mkdir(parents=True, exist_ok=True)

    runs = []
    for n in args.paths:
        input_dir = dataset(args.workdir, n, args.models or models_for(n))
        n_paths = json.loads((input_dir / "manifest.json").read_text())["n_paths"]
        entry = {"n_paths": n_paths}
        if n <= args.baseline_max_paths:
            base = run_baseline(input_dir, args.workdir / "baseline_distinct.parquet")
            entry["baseline"] = {**base, "paths_per_s": round(n_paths / base["seconds"])}
            print(f"[{n_paths:,} paths] baseline: {base['seconds']:.1f} s, {entry['baseline']['paths_per_s']:,} paths/s, "
                  f"peak {base['peak_rss_mb']} MB", flush=True)
        extra_conf = tuple(tuple(item.split("=", 1)) for item in args.conf)
        ours = run_ours(input_dir, args.workdir, args.master, args.driver_memory, args.shuffle_partitions, args.port,
                        extra_conf)
        keys = ours.pop("keys")
        entry["ours"] = {**ours, "paths_per_s": round(n_paths / ours["seconds"]),
                         "from_sampled_paths_per_s": round(n_paths / ours["from_sampled_paths_s"])}
        print(f"[{n_paths:,} paths] ours ({args.master}): {ours['seconds']:.1f} s {ours['stages_s']}, "
              f"{entry['ours']['paths_per_s']:,} paths/s, peak {ours['peak_rss_mb']} MB", flush=True)
        if "baseline" in entry:
            entry["same_distinct_keys_as_baseline"] = same_distinct_sets(keys, args.workdir / "baseline_distinct.parquet")
            entry["speedup"] = round(entry["ours"]["paths_per_s"] / entry["baseline"]["paths_per_s"], 2)
            entry["speedup_from_sampled_paths"] = round(
                entry["ours"]["from_sampled_paths_per_s"] / entry["baseline"]["paths_per_s"], 2)
            print(f"[{n_paths:,} paths] speed-up {entry['speedup']}x from input files, "
                  f"{entry['speedup_from_sampled_paths']}x from rft.sampled_paths; same distinct keys: "
                  f"{entry['same_distinct_keys_as_baseline']}", flush=True)
            if not entry["same_distinct_keys_as_baseline"]:
                raise SystemExit("ours and the baseline disagree on the distinct (pool, question, equation list) set")
        runs.append(entry)

    report = {"command": " ".join([Path(sys.executable).name, "-m", "benches.verify_dedupe", *(argv or sys.argv[1:])]),
              "machine": machine(), "master": args.master, "driver_memory": args.driver_memory,
              "shuffle_partitions": args.shuffle_partitions, "date": time.strftime("%Y-%m-%d"), "runs": runs}
    print(json.dumps(report, indent=2))
    if args.record:
        with open(RESULTS / "verify_dedupe_runs.jsonl", "a") as log:
            log.write(json.dumps(report) + "\n")
        summary = {"machine": report["machine"], "master": args.master, "command": report["command"], "date": report["date"]}
        with_baseline = [r for r in runs if "baseline" in r]
        if with_baseline:
            r = max(with_baseline, key=lambda r: r["n_paths"])
            summary.update(n_paths=r["n_paths"], baseline_paths_per_s=r["baseline"]["paths_per_s"],
                           baseline_peak_rss_mb=r["baseline"]["peak_rss_mb"], ours_paths_per_s=r["ours"]["paths_per_s"],
                           ours_peak_rss_mb=r["ours"]["peak_rss_mb"], speedup=r["speedup"],
                           ours_from_sampled_paths_per_s=r["ours"]["from_sampled_paths_per_s"],
                           speedup_from_sampled_paths=r["speedup_from_sampled_paths"])
        largest = max(runs, key=lambda r: r["n_paths"])
        summary.update(largest_n_paths=largest["n_paths"], ours_largest_seconds=round(largest["ours"]["seconds"], 1),
                       ours_largest_peak_rss_mb=largest["ours"]["peak_rss_mb"])
        if largest["n_paths"] >= 9_000_000:
            summary["ours_10m_seconds"] = round(largest["ours"]["seconds"], 1)
        (RESULTS / "verify_dedupe.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
