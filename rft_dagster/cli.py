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

The commands that run the loop print one line per stage and keep Dagster's, dbt's and the steps'
output in $RFT_HOME/logs/<command>-<time>.log (its path is printed); --verbose shows it all.
"""

from __future__ import annotations

import argparse
import sys

from rft_dagster import commands_lakehouse, commands_loop, commands_setup
from rft_dagster.command_env import loop_definitions, setup_env
from rft_dagster.console import command_output
from rft_dagster.run_reports import JobFailed
from spark_jobs.damaged_tables import DamagedTableError
from spark_jobs.disk_full import DiskFullError
from spark_jobs.server import SparkServerError

MARTS_SCHEMA = "rft_marts"  # dbt/profiles.yml


VERBOSE_HELP = "show Dagster's, dbt's and the steps' output on the console instead of in a log file"
QUIET_COMMANDS = ("demo", "run", "backfill", "import", "studies", "marts")  # those that run jobs


def cmd_marts(args) -> int:
    """The dbt marts again (what `rft run` ends with), e.g. after `rft import`."""
    from dagster import DagsterInstance

    from rft_dagster.dbt_project import mart_names
    from rft_dagster.job_runs import run_job

    home = setup_env(args)
    try:
        with command_output(args.command, home, args.verbose):
            run_job(loop_definitions(), "marts_job", DagsterInstance.get())
    except JobFailed as error:
        error.add_note(f"dbt's log and run_results.json: {home.runs / 'dbt' / error.run_id[:8]}/")
        raise
    print(f"dbt marts in {MARTS_SCHEMA}: {', '.join(mart_names())}")
    print(f'e.g. rft sql "SELECT * FROM {MARTS_SCHEMA}.pass_at_k ORDER BY model, k"')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rft", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="RFT_HOME: warehouse, checkpoints, Dagster history (default: .rft_home)")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    commands_loop.add_commands(sub)
    marts = sub.add_parser(
        "marts", help="dbt build of the marts (pass@k, distinct paths, difficulty, leaderboard) through Dagster",
    )
    marts.set_defaults(func=cmd_marts)
    commands_setup.add_commands(sub)
    commands_lakehouse.add_commands(sub)
    for name in QUIET_COMMANDS:  # `rft demo -v` too (scripts/demo.sh -v); SUPPRESS keeps a global --verbose
        sub.choices[name].add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                       help=VERBOSE_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except JobFailed as exc:
        return fail(exc, 1, with_notes=True)  # the notes say where the step's traceback is
    except (ValueError, KeyError, PermissionError, FileNotFoundError, SparkServerError) as exc:
        return fail(exc, 2)  # bad input: the message says it all
    except (DamagedTableError, DiskFullError) as exc:
        return fail(exc, 3)  # the message names the table, what happened and how to recover


def fail(exc: Exception, code: int, with_notes: bool = False) -> int:
    """The error on standard error; with the notes it gathered on the way (the log file's path)."""
    print(f"rft: error: {exc}", file=sys.stderr)
    for note in getattr(exc, "__notes__", ()) if with_notes else ():
        print(f"  {note}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
