"""Marts: the dbt models of `dbt/` (staging views, then mart tables) over the lakehouse.

Each dbt source names the asset that writes its Delta table (`meta.dagster.asset_key`), so the
models sit downstream of the Python assets; dbt's tests become asset checks of the models.
One `dbt build` through the warehouse's Spark Connect server runs models, tests and unit
tests; any failure fails the step.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from rft_dagster.dbt_project import dbt_project, prepare_manifest
from rft_dagster.resources import RftSettings, SparkResource


class LakehouseTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # fqn is [project, folder, ..., model]: the folder (staging, marts) is the group
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


# rft_datasets writes two tables (the manifests and their rows): two sources, one asset.
translator = LakehouseTranslator(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))


# dbt-spark's session asks for Hive support, a static setting a Connect client cannot set
# (the server has it already): pyspark would warn on each of dbt's connections.
QUIET_HIVE_WARNING = "ignore:Failed to set spark.sql.catalogImplementation:UserWarning"


@contextmanager
def dbt_environment(spark_remote: str) -> Iterator[None]:
    """SPARK_REMOTE (and a quieter pyspark) for the dbt process, which copies this environment.

    An environment variable rather than `--vars`: dbt's partial parsing (the manifest of
    `dbt parse`) stays valid only while the command-line vars are unchanged.
    """
    values = {
        "SPARK_REMOTE": spark_remote,
        "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_HIVE_WARNING])),
    }
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dbt_assets(manifest=prepare_manifest(), project=dbt_project, dagster_dbt_translator=translator)
def marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource, settings: RftSettings):
    """dbt build of the staging views and marts (pass@k, distinct paths, difficulty, leaderboard)."""
    spark.lakehouse()  # the server is up and every source table exists, even on a new warehouse
    # Artifacts (run_results.json, compiled SQL, dbt.log) next to the other steps' run folders.
    target = settings.paths.run_dir("dbt", context.run.run_id[:8])
    with dbt_environment(spark.remote or spark.server_config().url):
        build = dbt.cli(["build"], context=context, target_path=target)
    yield from build.stream()
