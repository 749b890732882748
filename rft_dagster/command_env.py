"""What every `rft` command sets up first: RFT_HOME, RFT_CONFIG and DAGSTER_HOME, with its dagster.yaml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rft.home import Home, default_home
from spark_jobs.server import require_java_unless_remote

# Dagster warns on every command without an instance config, and announces its usage statistics
# on the first run; neither helps someone running the loop. Storage stays Dagster's default.
DAGSTER_YAML = """\
# Written by `rft` when this file is missing (rft_dagster/command_env.py); edit it freely.
# Storage: Dagster's default, SQLite files in this folder.
telemetry:
  enabled: false
"""


def setup_env(args, needs_spark: bool = True) -> Home:
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
    write_dagster_yaml(home, Path(os.environ["DAGSTER_HOME"]))
    return home


def write_dagster_yaml(home: Home, dagster_home: Path) -> None:
    """The instance config in this home's Dagster folder unless it has one; a DAGSTER_HOME elsewhere is left alone."""
    config = home.dagster / "dagster.yaml"
    if dagster_home.resolve() == home.dagster.resolve() and not config.exists():
        config.write_text(DAGSTER_YAML)


def settings():
    """The run settings and the Spark resource, from this process's environment."""
    from rft_dagster.resources import default_resources

    resources = default_resources()
    return resources["settings"], resources["spark"]


def loop_definitions():
    """The code location's definitions on resources from this process's environment as set above,
    not from an earlier import of `rft_dagster.definitions.defs` (a test, or another home)."""
    from rft_dagster.definitions import build_definitions
    from rft_dagster.resources import default_resources

    return build_definitions(default_resources())


def documented_parser(sub, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand whose --help shows `description` as written: aligned columns, examples."""
    return sub.add_parser(name, help=help, description=description,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
