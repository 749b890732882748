"""Resources: the Spark lakehouse, the run settings, and the runner of external (GPU) steps."""

from __future__ import annotations

import json
import os
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from rft.config import RftConfig, load_config
from rft.home import Home, default_home
from rft.model_catalog import ModelCatalog
from spark_jobs.lakehouse import Lakehouse
from spark_jobs.server import ServerConfig, ensure_server


class SparkResource(dg.ConfigurableResource):
    """A Spark Connect client on the warehouse's server (started on first use) or on `remote`."""

    warehouse: str  # root of tables, metastore and server state
    master: str = "local[*]"  # master URL of the local server: local[2], local-cluster[...], spark://...
    port: int = 15002
    driver_memory: str = "4g"
    remote: str | None = None  # sc://host:port of a running Connect server (e.g. a cluster's)

    _lakehouse: Lakehouse | None = PrivateAttr(default=None)

    def server_config(self) -> ServerConfig:
        return ServerConfig(
            warehouse=Path(self.warehouse), master=self.master, port=self.port, driver_memory=self.driver_memory
        )

    def lakehouse(self) -> Lakehouse:
        if self._lakehouse is None:
            url = self.remote or ensure_server(self.server_config())
            self._lakehouse = Lakehouse(client_session(url))
            self._lakehouse.ensure_tables()
        return self._lakehouse


# This process's client session on each server. `builder.remote(url).getOrCreate()` would hand
# back whatever session the process made first, even one on another warehouse's server.
_SESSIONS: dict = {}


def client_session(url: str):
    """A Spark Connect session on `url`, made once per process (again once stopped)."""
    from pyspark.sql import SparkSession

    session = _SESSIONS.get(url)
    if session is None or session.is_stopped:
        session = _SESSIONS[url] = SparkSession.builder.remote(url).create()
    return session


class RftSettings(dg.ConfigurableResource):
    """The run's YAML config and `$RFT_HOME`."""

    config_file: str | None = None  # None: the paper's defaults
    home: str

    @cached_property
    def config(self) -> RftConfig:
        return load_config(self.config_file)

    @property
    def paths(self) -> Home:
        return Home(Path(self.home))

    @property
    def catalog(self) -> ModelCatalog:
        return ModelCatalog(self.paths, self.config)


class StepRunner(dg.ConfigurableResource):
    """Runs `python -m rft.steps.<step>` as an external process through Dagster Pipes.

    The step imports neither Spark nor Dagster, so `python` can be another interpreter
    (a vLLM environment, say) and the same step runs on a GPU node.
    """

    python: str | None = None  # interpreter for steps; None: this one
    num_threads: int | None = None  # torch threads in the step; None: all cores

    def run(self, context: dg.AssetExecutionContext, step: str, spec: dict, spec_path: Path) -> list[dict]:
        """Run one step with its JSON spec; returns the metadata the step reported."""
        spec = {**spec, "num_threads": self.num_threads}
        spec_path.write_text(json.dumps(spec, indent=2, default=str))
        client = dg.PipesSubprocessClient(env=_step_env())
        invocation = client.run(
            command=[self.python or sys.executable, "-m", f"rft.steps.{step}", "--spec", str(spec_path)],
            context=context,
        )
        return list(invocation.get_custom_messages())


def _step_env() -> dict[str, str]:
    """Only what a step needs: no credentials or unrelated secrets reach model code."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "CUDA_VISIBLE_DEVICES",
            "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "OMP_NUM_THREADS")
    return {k: os.environ[k] for k in keep if k in os.environ}


def default_resources() -> dict:
    home = Path(os.environ.get("RFT_HOME") or default_home())
    config_file = os.environ.get("RFT_CONFIG")
    return {
        "spark": SparkResource(
            warehouse=str(home / "warehouse"),
            master=os.environ.get("RFT_SPARK_MASTER", "local[*]"),
            port=int(os.environ.get("RFT_SPARK_PORT", "15002")),
            remote=os.environ.get("RFT_SPARK_REMOTE") or None,
        ),
        "settings": RftSettings(config_file=config_file, home=str(home)),
        "steps": StepRunner(),
    }
