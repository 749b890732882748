"""`rft demo`, `run`, `backfill`, `import`, `studies run` and `rounds add`: the commands that run the loop's jobs.

Each runs its jobs inside `command_output` (rft_dagster/console.py): one line per stage on the
console, everything else in `$RFT_HOME/logs/`; then it prints its result and where to look next.
"""

from __future__ import annotations

import time
from pathlib import Path

from rft.home import PROJECT_ROOT, Home
from rft_dagster import command_env
from rft_dagster.command_env import documented_parser, loop_definitions, setup_env
from rft_dagster.console import command_output, next_steps, rft_command

DEMO_CONFIG = PROJECT_ROOT / "configs" / "demo.yaml"
NO_MARTS_HELP = "skip the dbt marts at the end (build them later with `rft marts`)"
RECORD_HELP = ("also write the result table as JSON, with the wall time (the README's demo table: "
               "benches/results/demo.json, rendered by scripts/results_tables.py)")

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


def finish(args, home: Home, log: Path | None, *results: str) -> int:
    """The command's results, then where to look next."""
    for result in results:
        print(result)
    print(next_steps(rft_command(args.home), home, log))
    return 0


def cmd_run(args) -> int:
    start = time.monotonic()
    home = setup_env(args)  # first: its errors should not wait for the imports below
    from dagster import DagsterInstance

    from rft_dagster.pipeline import run_pipeline, summary_table

    settings, spark = command_env.settings()
    config = settings.config  # validate the config before any work starts
    models = args.models or config.default_models
    with command_output(args.command, home, args.verbose) as log:
        run_pipeline(models, DagsterInstance.get(), loop_definitions(), marts=not args.no_marts)
        table = summary_table(spark.lakehouse(), models)
    results = [table]
    if config.rounds.n_rounds > 1:
        results.append(f"\nRounds (rounds.n_rounds: {config.rounds.n_rounds}):\n"
                       + rounds_report(spark.lakehouse(), models))
    if getattr(args, "record", None):
        from rft_dagster.run_record import run_record, write_record

        # The config as given (a path inside the repository relative to it, so the record travels).
        given = Path(args.config).resolve()
        name = str(given.relative_to(PROJECT_ROOT)) if given.is_relative_to(PROJECT_ROOT) else str(given)
        settings_used = {"file": name, "n_seeds": config.n_seeds, "matched_sft_controls": config.matched_sft_controls}
        record = run_record(spark.lakehouse(), models, settings_used, time.monotonic() - start)
        results.append(f"recorded the result table in {write_record(record, Path(args.record)).resolve()}")
    return finish(args, home, log, *results)


def cmd_demo(args) -> int:
    args.config = args.config or str(DEMO_CONFIG)
    return cmd_run(args)


def cmd_backfill(args) -> int:
    home = setup_env(args)  # first: its errors should not wait for the imports below
    from dagster import DagsterInstance

    from rft_dagster.pipeline import backfill_model, summary_table

    settings, spark = command_env.settings()
    with command_output(args.command, home, args.verbose) as log:
        models = backfill_model(args.model, DagsterInstance.get(), loop_definitions(), marts=not args.no_marts)
        table = summary_table(spark.lakehouse(), models)
    if settings.config.rounds.n_rounds > 1:
        table += "\n\nRounds:\n" + rounds_report(spark.lakehouse(), models)
    return finish(args, home, log, table)


def cmd_import(args) -> int:
    home = setup_env(args)
    from dagster import DagsterInstance

    from rft_dagster.importing import import_generations, import_summary
    from rft_dagster.pipeline import render_table

    with command_output(args.command, home, args.verbose) as log:
        defs = loop_definitions()
        result = import_generations(
            args.generations, args.questions, instance=DagsterInstance.get(), defs=defs, default_model=args.model
        )
        table = render_table(import_summary(defs.resources["spark"].lakehouse(), sorted(result.rows)))
    summary = (f"import {result.import_id}: {sum(result.rows.values())} paths answering {result.questions} questions "
               f"({result.new_questions} of them new to rft.questions)")
    return finish(args, home, log, summary, table)


def cmd_studies(args) -> int:
    home = setup_env(args)
    from dagster import DagsterInstance

    from rft_dagster.study_commands import records_table, run_studies, study_records, write_records

    settings, spark = command_env.settings()
    settings.config  # validate the config before any work starts
    if args.action == "run":
        with command_output("studies", home, args.verbose) as log:
            run_studies(args.models, DagsterInstance.get(), loop_definitions())
    records = study_records(spark.lakehouse())
    print(records_table(records))
    if getattr(args, "record", None):
        print(f"wrote {write_records(records, Path(args.record), run=args.run_name).resolve()}")
    if args.action == "run":
        print(next_steps(rft_command(args.home), home, log))
    return 0


def rounds_report(lake, models: list[str] | None = None) -> str:
    """Every round of `models` (all when None), and each later round's paired tests."""
    from rft_dagster.pipeline import render_table
    from rft_dagster.rounds_pipeline import round_comparison_table, rounds_table

    parts = [render_table(rounds_table(lake, models))]
    comparisons = round_comparison_table(lake, models)
    if not comparisons.empty:
        parts.append("\nEach later round's RFT (own paths) vs the previous round's and vs its step-matched SFT "
                     "control (exact paired test over questions and seeds; Holm over the rows):")
        parts.append(render_table(comparisons))
    return "\n".join(parts)


def cmd_rounds(args) -> int:
    home = setup_env(args)
    from dagster import DagsterInstance

    from rft_dagster.rounds_pipeline import add_round

    settings, spark = command_env.settings()
    settings.config  # validate the config before any work starts
    log = None
    if args.action == "add":
        with command_output("rounds", home, args.verbose) as log:
            round_ = add_round(args.model, DagsterInstance.get(), loop_definitions(), marts=not args.no_marts)
        print(f"{args.model}: round {round_} done")
    print(rounds_report(spark.lakehouse()))
    if log is not None:
        print(next_steps(rft_command(args.home), home, log))
    return 0


ROUNDS_HELP = """\
RFT in rounds (expert iteration). Round 0 samples from the SFT model and trains RFT; `rft run`
and `rft backfill` go on to the config's rounds.n_rounds. Round r+1 samples again from round r's RFT model (rounds.sample_from: own or union), keeps the
correct, distinct paths, and trains a new RFT model from the base on the SFT data plus the
distinct paths of rounds 0..r+1 (rounds.paths: cumulative) or of round r+1 alone (last), with
its step-matched SFT control and evaluation. Only the named model is sampled; the round's pools
and sets (own:<model>@r<r>, union@r<r>) are rebuilt across every model, and every model of the
round retrains on them (its union set changed).

example:
  rft run --config my.yaml                  # with rounds.n_rounds: 3, runs rounds 0, 1 and 2
  rft rounds add tiny-llama-a --config my.yaml   # one more round of one model (n_rounds must allow it)
  rft rounds list
"""


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


def add_commands(sub) -> None:
    demo = sub.add_parser("demo", help="the whole loop on the embedded task with two tiny models (CPU)")
    demo.add_argument("--config", help=f"YAML config (default: {DEMO_CONFIG.relative_to(PROJECT_ROOT)})")
    demo.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    demo.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    demo.add_argument("--record", help=RECORD_HELP)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="the whole loop with a config: questions -> SFT -> sample -> filter -> RFT -> eval")
    run.add_argument("--config", required=True, help="YAML config (see rft/config/rft_config.py for every field)")
    run.add_argument("--models", nargs="+", help="model names (default: the config's default_models)")
    run.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    run.add_argument("--record", help=RECORD_HELP)
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser("backfill", help="add a model and materialise it; cross-model assets recompute")
    backfill.add_argument("model")
    backfill.add_argument("--config", help="YAML config")
    backfill.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    backfill.set_defaults(func=cmd_backfill)

    imp = documented_parser(sub, "import", "load generations made elsewhere, verify and deduplicate them",
                            IMPORT_HELP)
    imp.add_argument("generations", nargs="+", help="generations files (.jsonl or .parquet)")
    imp.add_argument("--questions", required=True, help="questions with gold answers (.jsonl or .parquet)")
    imp.add_argument("--model", help="model name for rows without a 'model' field")
    imp.set_defaults(func=cmd_import)

    rounds = documented_parser(sub, "rounds", "RFT in rounds: sample again from the RFT model, train again",
                               ROUNDS_HELP)
    rounds_sub = rounds.add_subparsers(dest="action", required=True)
    r_add = rounds_sub.add_parser("add", help="run the next round of one model, then list every round")
    r_add.add_argument("model", help="a model partition with an RFT model (round 0 done)")
    r_add.add_argument("--config", help="YAML config; rounds.n_rounds bounds the rounds (rft/config/rounds_config.py)")
    r_add.add_argument("--no-marts", action="store_true", help=NO_MARTS_HELP)
    rounds_sub.add_parser("list", help="every model's rounds: paths sampled and correct, RFT accuracy")
    rounds.set_defaults(func=cmd_rounds)

    studies = documented_parser(
        sub, "studies", "scaling studies: RFT vs k, SFT vs data, diversity, pre-training loss, union gain", STUDIES_HELP,
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
