"""Dedup with Spark built-ins vs the grouped Arrow UDF, on the same verified paths in the same run.

The issue asks to prefer built-ins (`levenshtein`) and to measure where a UDF is used instead.
Both plans implement the same rule and give the same rows (tests/spark/test_verify_dedupe_bench.py);
this times them: synthetic paths -> rft.verified_paths once, then each plan -> a no-op sink.

    python -m benches.dedup_plans --paths 100000 --record
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benches.verify_dedupe import RESULTS, dataset, machine, models_for


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--port", type=int, default=15094)
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--record", action="store_true", help="append the result to benches/results/dedup_plans.jsonl")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from benches.dedup_builtin import distinct_paths_builtin
    from spark_jobs.distinct_paths import distinct_paths
    from spark_jobs.lakehouse import Lakehouse
    from spark_jobs.path_ids import path_id
    from spark_jobs.server import ServerConfig, ensure_server, stop_server
    from spark_jobs.verified_paths import verify_sampled_paths

    input_dir = dataset(workdir, args.paths, models_for(args.paths))
    warehouse = workdir / "warehouse_plans"
    shutil.rmtree(warehouse, ignore_errors=True)
    cfg = ServerConfig(warehouse=warehouse, master=args.master, port=args.port, driver_memory="8g", shuffle_partitions=32)
    spark = SparkSession.builder.remote(ensure_server(cfg)).getOrCreate()
    try:
        lake = Lakehouse(spark)
        lake.ensure_tables()
        questions = spark.read.parquet(str(input_dir / "questions.parquet")).select("question_id", "gold_answer")
        sampled = spark.read.parquet(str(input_dir / "generations")).withColumn(
            "path_id", path_id(F.col("model"), F.col("question_id"), F.col("sample_idx")))
        verified = verify_sampled_paths(sampled, questions).localCheckpoint(eager=True)
        n_correct = verified.filter("is_correct").count()
        seconds = {}
        for name, plan in [("arrow_udf_rapidfuzz", distinct_paths), ("builtin_levenshtein", distinct_paths_builtin)]:
            t0 = time.perf_counter()
            plan(verified).write.format("noop").mode("overwrite").save()
            seconds[name] = round(time.perf_counter() - t0, 1)
            print(f"{name}: {seconds[name]} s for {n_correct:,} correct paths", flush=True)
    finally:
        spark.stop()
        stop_server(cfg)
    report = {"command": " ".join(["python", "-m", "benches.dedup_plans", *(argv or sys.argv[1:])]),
              "machine": machine(), "master": args.master, "date": time.strftime("%Y-%m-%d"),
              "n_paths": json.loads((input_dir / "manifest.json").read_text())["n_paths"], "n_correct": n_correct,
              "seconds": seconds, "udf_speedup": round(seconds["builtin_levenshtein"] / seconds["arrow_udf_rapidfuzz"], 1)}
    print(json.dumps(report, indent=2))
    if args.record:
        with open(RESULTS / "dedup_plans.jsonl", "a") as log:
            log.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
