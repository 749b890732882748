"""`rft`: run the loop, add models, manage the Spark server, query the lakehouse.

    rft demo                         # the whole loop on the embedded task, two tiny models, CPU
    rft run --config configs/gsm8k.yaml
    rft models add tiny-llama-b      # a new partition; `rft backfill tiny-llama-b` fills it
    rft models add smol --from HuggingFaceTB/SmolLM2-135M-Instruct
    rft import gens.jsonl --questions train.jsonl   # generations made elsewhere, verified and deduped
    rft sql "SELECT model, count(*) FROM rft.sampled_paths GROUP BY model"
    rft marts                        # dbt build of the marts (rft run ends with it too)
    rft ui                           # Dagit on 127.0.0.1:3000 with this home's runs and models
    rft spark stop
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rft.home import PROJECT_ROOT, Home, default_home
from spark_jobs.server import SparkServerError, require_java_unless_remote

DEMO_CONFIG = PROJECT_ROOT / "configs" / "demo.yaml"
MARTS_SCHEMA = "rft_marts"  # dbt/profiles.yml
MARTS = ("pass_at_k", "distinct_paths_per_question", "question_path_counts", "difficulty_buckets",
         "accuracy_leaderboard")


def _setup_env(args, needs_spark: bool = True) -> Home:
    """RFT_HOME, RFT_CONFIG and DAGSTER_HOME for this process and the code location it loads.

    Checks first what would stop a run half-way: an unwritable home or warehouse, no Java.
    """
    home = Home(Path(args.home).resolve() if args.home else default_home())
    home.check_writable()
    if needs_spark:
        require_java_unless_remote()
    os.environ["RFT_HOME"] = str(home.root)
    if getattr(args, "config", None):
        os.environ["RFT_CONFIG"] = str(Path(args.config).resolve())
    home.dagster.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(home.dagster))
    return home


def _settings():
    from rft_dagster.resources import default_resources

    resources = default_resources()
    return resources["settings"], resources["spark"]


def cmd_run(args) -> int:
    _setup_env(args)  # first: its errors should not wait for the imports below
    from rft_dagster.pipeline import run_pipeline, summary_table
    settings, spark = _settings()
    settings.config  # validate the config before any work starts
    models = args.models or settings.config.default_models
    run_pipeline(models)
    print(summary_table(spark.lakehouse(), models))
    return 0


def cmd_demo(args) -> int:
    args.config = args.config or str(DEMO_CONFIG)
    return cmd_run(args)


def cmd_backfill(args) -> int:
    _setup_env(args)  # first: its errors should not wait for the imports below
    from rft_dagster.pipeline import backfill_model, summary_table
    settings, spark = _settings()
    models = backfill_model(args.model)
    print(summary_table(spark.lakehouse(), models))
    return 0


def cmd_models(args) -> int:
    from dagster import DagsterInstance

    from rft_dagster.partitions import models_partitions

    _setup_env(args, needs_spark=False)
    settings, _ = _settings()
    instance = DagsterInstance.get()
    if args.action == "add":
        spec = settings.catalog.add(args.name, args.source)
        instance.add_dynamic_partitions(models_partitions.name, [args.name])
        print(f"added model partition {args.name!r} ({spec.source}: {spec.path or spec.tiny})")
        print(f"materialise it with: rft backfill {args.name}   (or from Dagit)")
    else:
        from rft_dagster.importing import is_imported

        for name in sorted(instance.get_dynamic_partitions(models_partitions.name)):
            if is_imported(instance, name):  # no weights here, only its paths
                print(f"{name}\timport\t(generations loaded with rft import)")
                continue
            spec = settings.catalog.spec(name)
            print(f"{name}\t{spec.source}\t{spec.path or spec.tiny}")
    return 0


def cmd_import(args) -> int:
    _setup_env(args)
    from dagster import DagsterInstance

    from rft_dagster.definitions import build_definitions
    from rft_dagster.importing import import_generations, import_summary
    from rft_dagster.pipeline import render_table
    from rft_dagster.resources import default_resources

    # Resources from this process's environment as set above, not from an earlier import of `defs`.
    defs = build_definitions(default_resources())
    result = import_generations(
        args.generations, args.questions, instance=DagsterInstance.get(), defs=defs, default_model=args.model
    )
    print(f"import {result.import_id}: {sum(result.rows.values())} paths answering {result.questions} questions "
          f"({result.new_questions} of them new to rft.questions)")
    print(render_table(import_summary(defs.resources["spark"].lakehouse(), sorted(result.rows))))
    return 0


IMPORT_HELP = """\
Load generations made elsewhere into rft.sampled_paths (backend 'import'), then verify them
(verified_paths of each imported model) and deduplicate across every model (distinct_paths).

Generations (JSONL or Parquet), one path per row:
  model, sample_idx (or sample_id), text, and question_id or question (its text);
  optional: seed, temperature. --model names the model of rows without a model field.
Questions (JSONL or Parquet), one per row: question, and gold_answer or answer
  (GSM8K's "... #### 72" works), optional question_id (default: <file stem>-<line index:05d>,
  as `rft run` numbers a GSM8K file: train.jsonl line 1 is train-00000).

Every row is checked before anything is written; a problem is an error naming the file and
line (row). Importing a model again replaces its rows. Imported models become model partitions
(shown in Dagit); `rft run` and `rft backfill` refuse to sample them and never train them.
Rules for the questions table: rft/question_ownership.py; for the files: rft/imports.py.

example:
  rft import gens.jsonl --questions /data/gsm8k/train.jsonl
  rft import a.parquet b.parquet --questions questions.parquet --model my-model
"""


def cmd_spark(args) -> int:
    from spark_jobs.server import ensure_server, is_running, read_state, stop_server

    _setup_env(args, needs_spark=args.action == "start")
    _, spark = _settings()
    cfg = spark.server_config()
    if args.action == "start":
        print(f"Spark Connect server for {cfg.warehouse}: {ensure_server(cfg)}")
    elif args.action == "stop":
        print("stopped" if stop_server(cfg) else "no server was running")
    else:
        print(f"running: {read_state(cfg)}" if is_running(cfg) else "not running")
    return 0


def cmd_ui(args) -> int:
    """Dagit on this project's home, so the runs of `rft demo` and its partitions show up."""
    _setup_env(args)
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port)]
    os.chdir(PROJECT_ROOT)
    os.execv(sys.executable, command)
    return 0


def cmd_sql(args) -> int:
    from rft_dagster.pipeline import render_table

    _setup_env(args)
    _, spark = _settings()
    query = Path(args.file).read_text() if args.file else args.query
    if not query:
        raise SystemExit("give a query or -f FILE")
    from pyspark.errors import PySparkException

    lake = spark.lakehouse()
    try:
        print(render_table(lake.spark.sql(query).limit(args.limit).toPandas()))
    except PySparkException as exc:
        # The message without the server's JVM stack trace: unknown tables, syntax errors.
        print(f"rft sql: {str(exc).split('JVM stacktrace')[0].strip()}", file=sys.stderr)
        return 1
    return 0


def cmd_tables(args) -> int:
    from rft_dagster.pipeline import render_table, table_overview

    _setup_env(args)
    _, spark = _settings()
    print(render_table(table_overview(spark.lakehouse())))
    return 0


def cmd_marts(args) -> int:
    """The dbt marts again (what `rft run` ends with), e.g. after `rft import`."""
    from dagster import DagsterInstance

    from rft_dagster.definitions import build_definitions
    from rft_dagster.pipeline import _execute
    from rft_dagster.resources import default_resources

    home = _setup_env(args)
    defs = build_definitions(default_resources())
    try:
        _execute(defs, "marts_job", DagsterInstance.get())
    except RuntimeError as error:
        print(f"rft marts: {error}; dbt's log and run_results.json are in {home.runs / 'dbt'}/<run id>/",
              file=sys.stderr)
        return 1
    print(f"dbt marts in {MARTS_SCHEMA}: {', '.join(MARTS)}")
    print(f'e.g. rft sql "SELECT * FROM {MARTS_SCHEMA}.pass_at_k ORDER BY model, k"')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rft", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="RFT_HOME: warehouse, checkpoints, Dagster history (default: .rft_home)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole loop on the embedded task with two tiny models (CPU)")
    demo.add_argument("--config", help=f"YAML config (default: {DEMO_CONFIG.relative_to(PROJECT_ROOT)})")
    demo.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="the whole loop with a config: questions -> SFT -> sample -> filter -> RFT -> eval")
    run.add_argument("--config", required=True, help="YAML config (see rft/config.py for every field)")
    run.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser("backfill", help="add a model and materialise it; cross-model assets recompute")
    backfill.add_argument("model")
    backfill.add_argument("--config", help="YAML config")
    backfill.set_defaults(func=cmd_backfill)

    models = sub.add_parser("models", help="list or add model partitions")
    models_sub = models.add_subparsers(dest="action", required=True)
    add = models_sub.add_parser("add", help="add a model partition (visible in Dagit)")
    add.add_argument("name", help="partition key: letters, digits, . _ -")
    add.add_argument("--from", dest="source", help="hub id, local folder, .gguf file or tiny name")
    add.add_argument("--config", help="YAML config")
    lst = models_sub.add_parser("list", help="model partitions and their sources")
    lst.add_argument("--config", help="YAML config")
    models.set_defaults(func=cmd_models)

    imp = sub.add_parser(
        "import", help="load generations made elsewhere, verify and deduplicate them",
        description=IMPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("generations", nargs="+", help="generations files (.jsonl or .parquet)")
    imp.add_argument("--questions", required=True, help="questions with gold answers (.jsonl or .parquet)")
    imp.add_argument("--model", help="model name for rows without a 'model' field")
    imp.set_defaults(func=cmd_import)

    spark = sub.add_parser("spark", help="the warehouse's Spark Connect server")
    spark.add_argument("action", choices=["start", "stop", "status"])
    spark.set_defaults(func=cmd_spark)

    ui = sub.add_parser("ui", help="open Dagit (dagster dev) on this RFT_HOME")
    ui.add_argument("--config", help="YAML config the assets use (default: the paper's settings)")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    sql = sub.add_parser("sql", help="run Spark SQL on the lakehouse and print the result")
    sql.add_argument("query", nargs="?")
    sql.add_argument("-f", "--file", help="read the query from a file")
    sql.add_argument("--limit", type=int, default=50, help="rows to print (default 50)")
    sql.set_defaults(func=cmd_sql)

    marts = sub.add_parser(
        "marts", help="dbt build of the marts (pass@k, distinct paths, difficulty, leaderboard) through Dagster",
    )
    marts.set_defaults(func=cmd_marts)

    tables = sub.add_parser("tables", help="every table with its row count, Delta version and last update")
    tables.set_defaults(func=cmd_tables)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, PermissionError, FileNotFoundError, SparkServerError) as exc:
        print(f"rft: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
