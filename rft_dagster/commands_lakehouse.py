"""`rft sql`, `tables`, `datasets` and `report`: reading what the lakehouse holds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rft_dagster import command_env
from rft_dagster.command_env import documented_parser, setup_env

SQL_HELP = """\
Run Spark SQL on the lakehouse (the `rft` database; dbt's marts in `rft_marts`) and print
the result. A file may hold several statements separated by `;`; they run in order and the
first error stops the run. Delta time travel works: `... FROM rft.sampled_paths VERSION AS OF 3`
(`rft tables` shows each table's current version, `DESCRIBE HISTORY rft.sampled_paths` all).

Read-only unless told: queries (SELECT, WITH, VALUES, time travel), SHOW, DESCRIBE, EXPLAIN,
USE, SET without a value and CREATE TEMP VIEW (this command's session only) run as they are.
Anything that changes data, schema or the server (INSERT, UPDATE, DELETE, MERGE, CREATE, ALTER,
OPTIMIZE, RESTORE, CACHE, SET k=v, ...) needs --write. Dropping, truncating, vacuuming or
replacing a project table (rft.*), or dropping the rft database, also needs
--yes-drop-project-table; so does a statement rft sql does not know (EXECUTE IMMEDIATE, ...).
Every statement is checked first: a refused text runs none of them.

examples:
  rft sql "SELECT model, count(*) AS n FROM rft.sampled_paths GROUP BY model"
  rft sql -f checks.sql --limit 0 --format csv > out.csv
  rft sql "SELECT count(*) FROM rft.distinct_paths VERSION AS OF 2 WHERE pool = 'union'"
  rft sql --write "CREATE TABLE scratch.notes (model STRING, note STRING) USING delta"
  rft sql --write --yes-drop-project-table "DROP TABLE rft.rft_datasets"   # the assets rebuild it
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


def cmd_sql(args) -> int:
    from rft_dagster.sql_console import print_sql

    if bool(args.query) == bool(args.file):
        raise ValueError("give one query, or -f FILE (- reads standard input)")
    if args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    else:
        text = args.query
    setup_env(args)
    _, spark = command_env.settings()
    return print_sql(spark.lakehouse().spark, text, limit=args.limit, width=args.width, fmt=args.format,
                     write=args.write, drop_project_tables=args.yes_drop_project_table)


def cmd_tables(args) -> int:
    from rft_dagster.pipeline import render_table
    from rft_dagster.sql_console import table_overview

    setup_env(args)
    _, spark = command_env.settings()
    print(render_table(table_overview(spark.lakehouse().spark)))
    return 0


REPAIR_HELP = """\
Set aside a damaged latest commit of a table's Delta log, so the table reads again.

A torn or overwritten commit file (a disk fault, a crash of the machine) makes a Delta table
unreadable; every command then stops with an error naming the table and the commit. When the
damaged commit is the table's latest, this command moves its files into the table's
_damaged_log/ folder (nothing is deleted) and stops the local Spark server, so the next
command starts one that reads the table as the version before. Re-materialise the asset that
wrote the commit (or `rft run`) to write its rows again. A damaged commit with later commits on
top cannot be set aside: restore the table folder from a backup, or drop the table (rft sql
--write --yes-drop-project-table) and re-materialise the assets that write it.

examples:
  rft repair distinct_paths
  rft sql "DESCRIBE HISTORY rft.distinct_paths"
"""


def cmd_repair(args) -> int:
    from spark_jobs.damaged_tables import set_aside_latest
    from spark_jobs.schemas import DATABASE, TABLES
    from spark_jobs.server import stop_server

    setup_env(args)
    if args.table not in TABLES:
        raise ValueError(f"unknown table {args.table!r}; the project's tables: {', '.join(sorted(TABLES))}")
    _, spark = command_env.settings()
    if spark.remote:
        raise ValueError(f"rft repair works on a local warehouse; this one is served by {spark.remote}")
    location = spark.server_config().tables_dir / f"{DATABASE}.db" / args.table
    damaged = set_aside_latest(location)
    # The server may hold the damaged version in its cache: the next command starts a fresh one.
    stopped = stop_server(spark.server_config())
    print(f"{DATABASE}.{args.table}: commit {damaged.version} ({damaged.reason}) set aside in "
          f"{location / '_damaged_log'}; the table now reads as version {damaged.version - 1}.")
    if stopped:
        print("The Spark server was stopped; the next command starts it again.")
    print("Re-materialise the asset that wrote the commit (or `rft run`) to write its rows again.")
    return 0


def cmd_datasets(args) -> int:
    from pyspark.errors import PySparkException

    from rft_dagster import dataset_commands
    from rft_dagster.pipeline import render_table
    from rft_dagster.sql_console import clean_message

    setup_env(args)
    _, spark = command_env.settings()
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

    home = setup_env(args)
    _, spark = command_env.settings()
    out = Path(args.out) if args.out else home.root / "report.html"
    print(f"wrote {write_report(spark.lakehouse(), out).resolve()}")
    return 0


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def add_commands(sub) -> None:
    sql = documented_parser(sub, "sql", "run Spark SQL on the lakehouse and print the result", SQL_HELP)
    sql.add_argument("query", nargs="?", help="one SQL statement (or several, separated by ;)")
    sql.add_argument("-f", "--file", help="read the statements from a file (- for standard input)")
    sql.add_argument("--limit", type=non_negative, default=50, help="rows to print per statement (default 50, 0: all)")
    sql.add_argument("--width", type=non_negative, default=60,
                     help="cut table cells to this many characters (default 60, 0: never)")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table",
                     help="table (default), csv, or json (one object per line)")
    sql.add_argument("--write", action="store_true",
                     help="allow statements that change data, schema or the server's state (default: read-only)")
    sql.add_argument("--yes-drop-project-table", action="store_true",
                     help="with --write: also allow dropping, truncating, vacuuming or replacing rft.* tables")
    sql.set_defaults(func=cmd_sql)

    repair = documented_parser(sub, "repair", "set aside a damaged latest commit of a table's Delta log",
                               REPAIR_HELP)
    repair.add_argument("table", help="a table of the rft database, e.g. distinct_paths")
    repair.set_defaults(func=cmd_repair)

    tables = sub.add_parser("tables", help="every table with its row count, Delta version and last update")
    tables.set_defaults(func=cmd_tables)

    datasets = documented_parser(
        sub, "datasets", "RFT training sets: list their manifests, rebuild one exactly (Delta time travel)", DATASETS_HELP,
    )
    datasets_sub = datasets.add_subparsers(dest="action", required=True)
    ds_list = datasets_sub.add_parser("list", help="every training set's manifest")
    ds_list.add_argument("--as-of", type=non_negative, help="as rft.rft_datasets was at this Delta version")
    ds_rebuild = datasets_sub.add_parser("rebuild", help="rebuild one set from its manifest and check it")
    ds_rebuild.add_argument("name", help="training set, e.g. union or own:tiny-llama-a")
    ds_rebuild.add_argument("--as-of", type=non_negative, help="the manifest of rft.rft_datasets at this Delta version")
    ds_rebuild.add_argument("--model", help="the manifest recorded with this model's RFT checkpoint on the set")
    ds_rebuild.add_argument("--out", help="write the rows (with question text) to a .parquet or .jsonl file")
    datasets.set_defaults(func=cmd_datasets)

    report = sub.add_parser(
        "report", help="one HTML file with the funnel, SFT vs RFT accuracy and the plots (images embedded)"
    )
    report.add_argument("--out", help="HTML file to write (default: $RFT_HOME/report.html)")
    report.set_defaults(func=cmd_report)
