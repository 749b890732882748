"""`rft`: run the loop, add models, manage the Spark server, query the lakehouse.

    rft demo                         # the whole loop on the embedded task, two tiny models, CPU
    rft run --config configs/gsm8k.yaml
    rft models add tiny-llama-b      # a new partition; `rft backfill tiny-llama-b` fills it
    rft models add smol --from HuggingFaceTB/SmolLM2-135M-Instruct
    rft import gens.jsonl --questions train.jsonl   # generations made elsewhere, verified and deduped
    rft sql "SELECT model, count(*) FROM rft.sampled_paths GROUP BY model"
    rft marts                        # dbt build of the marts (rft run ends with it too)
    rft tables                       # every table: rows, Delta version, last update
    rft datasets rebuild union       # a training set rebuilt exactly from its manifest
    rft report --out report.html     # tables and plots in one self-contained HTML file
    rft studies run tiny-llama-a     # scaling studies (k, data, diversity, loss, union): missing cells only
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
    run_pipeline(models, marts=not args.no_marts)
    print(summary_table(spark.lakehouse(), models))
    return 0


def cmd_demo(args) -> int:
    args.config = args.config or str(DEMO_CONFIG)
    return cmd_run(args)


def cmd_backfill(args) -> int:
    _setup_env(args)  # first: its errors should not wait for the imports below
    from rft_dagster.pipeline import backfill_model, summary_table
    settings, spark = _settings()
    models = backfill_model(args.model, marts=not args.no_marts)
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
        from rft_dagster.job_runs import is_imported

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
Rules for the questions table: rft/ingest/question_ownership.py; for the files: rft/ingest/generations.py.

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
    from rft_dagster.sql_console import print_sql

    if bool(args.query) == bool(args.file):
        raise ValueError("give one query, or -f FILE (- reads standard input)")
    if args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    else:
        text = args.query
    _setup_env(args)
    _, spark = _settings()
    return print_sql(spark.lakehouse().spark, text, limit=args.limit, width=args.width, fmt=args.format)


SQL_HELP = """\
Run Spark SQL on the lakehouse (the `rft` database; dbt's marts in `rft_marts`) and print
the result. A file may hold several statements separated by `;`; they run in order and the
first error stops the run. Delta time travel works: `... FROM rft.sampled_paths VERSION AS OF 3`
(`rft tables` shows each table's current version, `DESCRIBE HISTORY rft.sampled_paths` all).

examples:
  rft sql "SELECT model, count(*) AS n FROM rft.sampled_paths GROUP BY model"
  rft sql -f checks.sql --limit 0 --format csv > out.csv
  rft sql "SELECT count(*) FROM rft.distinct_paths VERSION AS OF 2 WHERE pool = 'union'"
"""


DATASETS_HELP = """\
Every RFT training set (own:<model>, union) has a manifest in rft.rft_datasets naming the
Delta version of each table it was read from. `rebuild` reads rft.distinct_paths VERSION AS OF
that version and applies the same selection, so the set comes back row for row however the
tables changed since; it also checks the result against the rows stored with the manifest.
Tables keep their Delta log for ten years (delta.logRetentionDuration); only a VACUUM you run
yourself removes the files of old versions.

examples:
  rft datasets list
  rft datasets rebuild union --out union.parquet
  rft datasets rebuild own:tiny-llama-a --as-of 3     # rft.rft_datasets as of version 3
  rft datasets rebuild union --model tiny-llama-b     # what that model's union checkpoint learned from
"""


def cmd_tables(args) -> int:
    from rft_dagster.pipeline import render_table
    from rft_dagster.sql_console import table_overview

    _setup_env(args)
    _, spark = _settings()
    print(render_table(table_overview(spark.lakehouse().spark)))
    return 0


def cmd_marts(args) -> int:
    """The dbt marts again (what `rft run` ends with), e.g. after `rft import`."""
    from dagster import DagsterInstance

    from rft_dagster.dbt_project import mart_names
    from rft_dagster.definitions import build_definitions
    from rft_dagster.job_runs import run_job
    from rft_dagster.resources import default_resources

    home = _setup_env(args)
    defs = build_definitions(default_resources())
    try:
        run_job(defs, "marts_job", DagsterInstance.get())
    except RuntimeError as error:
        print(f"rft marts: {error}; dbt's log and run_results.json are in {home.runs / 'dbt'}/<run id>/",
              file=sys.stderr)
        return 1
    print(f"dbt marts in {MARTS_SCHEMA}: {', '.join(mart_names())}")
    print(f'e.g. rft sql "SELECT * FROM {MARTS_SCHEMA}.pass_at_k ORDER BY model, k"')
    return 0


def cmd_datasets(args) -> int:
    from rft_dagster import dataset_commands
    from rft_dagster.pipeline import render_table

    from pyspark.errors import PySparkException

    from rft_dagster.sql_console import clean_message

    _setup_env(args)
    _, spark = _settings()
    lake = spark.lakehouse()
    try:
        if args.action == "list":
            print(render_table(dataset_commands.manifests(lake, args.as_of)))
            return 0
        result = dataset_commands.rebuild(lake, args.name, as_of=args.as_of, model=args.model)
    except PySparkException as exc:  # e.g. a version that does not exist (yet, or any more)
        print(f"rft datasets: {clean_message(str(exc))}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else None
    if out is not None:
        dataset_commands.write(result, out)
    print(dataset_commands.describe(result, out))
    return 0 if result.matches_stored is not False else 1


def cmd_report(args) -> int:
    from rft_dagster.report import write_report

    home = _setup_env(args)
    _, spark = _settings()
    out = Path(args.out) if args.out else home.root / "report.html"
    print(f"wrote {write_report(spark.lakehouse(), out).resolve()}")
    return 0


def cmd_studies(args) -> int:
    _setup_env(args)
    from dagster import DagsterInstance

    from rft_dagster.definitions import build_definitions
    from rft_dagster.resources import default_resources
    from rft_dagster.study_commands import records_table, run_studies, study_records, write_records

    resources = default_resources()
    resources["settings"].config  # validate the config before any work starts
    if args.action == "run":
        try:
            run_studies(args.models, DagsterInstance.get(), build_definitions(resources))
        except RuntimeError as error:
            print(f"rft studies: {error}; the run's log is in Dagit (rft ui)", file=sys.stderr)
            return 1
    records = study_records(resources["spark"].lakehouse())
    print(records_table(records))
    if getattr(args, "record", None):
        print(f"wrote {write_records(records, Path(args.record), run=args.run_name).resolve()}")
    return 0


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


STUDIES_HELP = """\
Scaling studies from data the lakehouse holds; nothing is sampled again.

  rft_vs_k          RFT on SFT data + a model's distinct paths among each train question's first
                    k samples (k capped at sampling.k): accuracy vs k and vs distinct paths
  sft_vs_data       SFT on nested fractions of the train split (subset_seed): accuracy vs ln(examples)
  rft_vs_diversity  RFT on SFT data + the same number n of own correct paths, chosen distinct
                    (dedup), from all correct paths, or a few distinct ones repeated (control)
  pretrain_loss     each base model's loss on the test split's gold solutions (heldout_loss),
                    against its SFT and RFT accuracy across models: fits vs loss and vs
                    ln(parameters), Pearson's r (needs eval_results; one model: no fit)
  union_gain        the pipeline's RFT on own paths vs on the union (eval_results): the gain
                    with a 95% interval (needs rft_model and eval_results of the model)

Each value (x each training seed) is one cell: one training run and one greedy evaluation (a
loss measurement; an evaluation already made), stored in rft.study_results under a hash of
every setting. A cell with the same settings is reused; change a setting and only the changed
cells are computed. The studies: section of the config says what varies (rft/config/study_config.py).
"""


NO_MARTS_HELP = "skip the dbt marts at the end (build them later with `rft marts`)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rft", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="RFT_HOME: warehouse, checkpoints, Dagster history (default: .rft_home)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole loop on the embedded task with two tiny models (CPU)")
    demo.add_argument("--config", help=f"YAML config (default: {DEMO_CONFIG.relative_to(PROJECT_ROOT)})")
    demo.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    demo.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="the whole loop with a config: questions -> SFT -> sample -> filter -> RFT -> eval")
    run.add_argument("--config", required=True, help="YAML config (see rft/config/rft_config.py for every field)")
    run.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    run.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser("backfill", help="add a model and materialise it; cross-model assets recompute")
    backfill.add_argument("model")
    backfill.add_argument("--config", help="YAML config")
    backfill.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
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

    sql = sub.add_parser(
        "sql", help="run Spark SQL on the lakehouse and print the result",
        description=SQL_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sql.add_argument("query", nargs="?", help="one SQL statement (or several, separated by ;)")
    sql.add_argument("-f", "--file", help="read the statements from a file (- for standard input)")
    sql.add_argument("--limit", type=_non_negative, default=50, help="rows to print per statement (default 50, 0: all)")
    sql.add_argument("--width", type=_non_negative, default=60,
                     help="cut table cells to this many characters (default 60, 0: never)")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table",
                     help="table (default), csv, or json (one object per line)")
    sql.set_defaults(func=cmd_sql)

    marts = sub.add_parser(
        "marts", help="dbt build of the marts (pass@k, distinct paths, difficulty, leaderboard) through Dagster",
    )
    marts.set_defaults(func=cmd_marts)

    datasets = sub.add_parser(
        "datasets", help="RFT training sets: list their manifests, rebuild one exactly (Delta time travel)",
        description=DATASETS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    datasets_sub = datasets.add_subparsers(dest="action", required=True)
    ds_list = datasets_sub.add_parser("list", help="every training set's manifest")
    ds_list.add_argument("--as-of", type=_non_negative, help="as rft.rft_datasets was at this Delta version")
    ds_rebuild = datasets_sub.add_parser("rebuild", help="rebuild one set from its manifest and check it")
    ds_rebuild.add_argument("name", help="training set, e.g. union or own:tiny-llama-a")
    ds_rebuild.add_argument("--as-of", type=_non_negative, help="the manifest of rft.rft_datasets at this Delta version")
    ds_rebuild.add_argument("--model", help="the manifest recorded with this model's RFT checkpoint on the set")
    ds_rebuild.add_argument("--out", help="write the rows (with question text) to a .parquet or .jsonl file")
    datasets.set_defaults(func=cmd_datasets)

    report = sub.add_parser(
        "report", help="one HTML file with the funnel, SFT vs RFT accuracy and the plots (images embedded)"
    )
    report.add_argument("--out", help="HTML file to write (default: $RFT_HOME/report.html)")
    report.set_defaults(func=cmd_report)

    studies = sub.add_parser(
        "studies", help="scaling studies: RFT vs k, SFT vs data, diversity, pre-training loss, union gain",
        description=STUDIES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    studies_sub = studies.add_subparsers(dest="action", required=True)
    st_run = studies_sub.add_parser("run", help="compute the missing cells of each model's studies, then show them")
    st_run.add_argument("models", nargs="+",
                        help="model partitions (their verified paths and, for union_gain, RFT evaluations must exist)")
    st_run.add_argument("--config", help="YAML config; its studies: section says what varies (rft/config/study_config.py)")
    st_show = studies_sub.add_parser("show", help="the cells of each study's newest settings, with the fitted laws")
    st_show.add_argument("--record", help="also write them as JSON, e.g. benches/results/scaling.json")
    st_show.add_argument("--run-name", default="local",
                         help="name of these figures in the --record file; other runs' entries there are kept")
    studies.set_defaults(func=cmd_studies)

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
