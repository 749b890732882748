"""`rft models`, `spark` and `ui`: the model partitions, the warehouse's Spark server, and Dagit."""

from __future__ import annotations

import os
import sys

from rft.home import PROJECT_ROOT
from rft_dagster import command_env
from rft_dagster.command_env import setup_env


def cmd_models(args) -> int:
    from dagster import DagsterInstance

    from rft_dagster.partitions import models_partitions

    setup_env(args, needs_spark=False)
    settings, _ = command_env.settings()
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


def cmd_spark(args) -> int:
    from spark_jobs.server import ensure_server, is_running, read_state, stop_server

    setup_env(args, needs_spark=args.action == "start")
    _, spark = command_env.settings()
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
    setup_env(args)
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port)]
    os.chdir(PROJECT_ROOT)
    os.execv(sys.executable, command)
    return 0


def add_commands(sub) -> None:
    models = sub.add_parser("models", help="list or add model partitions")
    models_sub = models.add_subparsers(dest="action", required=True)
    add = models_sub.add_parser("add", help="add a model partition (visible in Dagit)")
    add.add_argument("name", help="partition key: letters, digits, . _ -")
    add.add_argument("--from", dest="source", help="hub id, local folder, .gguf file or tiny name")
    add.add_argument("--config", help="YAML config")
    lst = models_sub.add_parser("list", help="model partitions and their sources")
    lst.add_argument("--config", help="YAML config")
    models.set_defaults(func=cmd_models)

    spark = sub.add_parser("spark", help="the warehouse's Spark Connect server")
    spark.add_argument("action", choices=["start", "stop", "status"])
    spark.set_defaults(func=cmd_spark)

    ui = sub.add_parser("ui", help="open Dagit (dagster dev) on this RFT_HOME")
    ui.add_argument("--config", help="YAML config the assets use (default: the paper's settings)")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
