"""Resources: the Spark lakehouse, the run settings, and the runner of external (GPU) steps."""

from __future__ import annotations

import os
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from rft.config.rft_config import RftConfig, load_config
from rft.home import PROJECT_ROOT, Home, default_home
from rft.models.catalog import ModelCatalog
from rft.sampling.requests import choose_backend
from rft.steps.step_environment import launcher, reads_the_hub
from rft.steps.step_specs import StepSpec, write_spec
from rft.sampling.vllm_python import find_vllm_python
from spark_jobs.damaged_tables import check_tables
from spark_jobs.lakehouse import Lakehouse
from spark_jobs.pyspark_loggers import use_made_pyspark_loggers
from spark_jobs.schemas import ALL_TABLES, DATABASE
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
            if self.remote is None:
                # A damaged transaction log fails here, named, rather than as a JVM trace mid-run.
                check_tables(self.server_config().tables_dir / f"{DATABASE}.db", [t.name for t in ALL_TABLES], DATABASE)
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

    use_made_pyspark_loggers()  # before any thread can raise a Spark error: see that module
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
    (a vLLM environment, say) and the same step runs on a GPU node. A step whose spec says
    `"backend": "vllm"` runs with the vLLM interpreter (rft/sampling/vllm_python.py says which).
    The spec's type (rft/steps/step_specs.py) names the step.
    """

    python: str | None = None  # interpreter for steps; None: this one
    vllm_python: str | None = None  # interpreter for vLLM steps; None: RFT_VLLM_PYTHON, .venv-vllm, ...
    num_threads: int | None = None  # torch threads in the step; None: all cores

    def backend_for(self, requested: str) -> str:
        """The backend a step is told to run: "auto" stays "auto" where a vLLM interpreter is, since
        only the step sees the GPU and the model that decide between vLLM and the static engine
        (`rft.sampling.requests.choose_backend`); it reports what it picked."""
        if requested == "transformers":
            return requested
        vllm = find_vllm_python(self.vllm_python) is not None
        if requested == "auto" and vllm:
            return "auto"
        return choose_backend(requested, vllm_available=vllm)

    def run(self, context: dg.AssetExecutionContext, spec: StepSpec, spec_path: Path) -> list[dict]:
        """Run the step `spec` is for, its spec written to `spec_path`; returns the metadata the step reported."""
        spec = spec.model_copy(update={"num_threads": self.num_threads})
        write_spec(spec, spec_path)
        vllm = find_vllm_python(self.vllm_python) if getattr(spec, "backend", None) in ("vllm", "auto") else None
        python = vllm or self.python or sys.executable
        # The client hands this process's whole environment on; the launcher keeps only what the
        # step needs (the rule is in rft/steps/step_environment.py), so no credential reaches model code.
        # The project goes first on PYTHONPATH: another interpreter (vLLM's) has it not installed.
        pythonpath = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
        command = [*launcher(python, hub=reads_the_hub(spec.model_dump())),
                   python, "-m", f"rft.steps.{spec.step}", "--spec", str(spec_path)]
        invocation = dg.PipesSubprocessClient(env={"PYTHONPATH": pythonpath}).run(command=command, context=context)
        return list(invocation.get_custom_messages())


def default_resources() -> dict:
    home = Path(os.environ.get("RFT_HOME") or default_home())
    config_file = os.environ.get("RFT_CONFIG") or None  # set but empty: the default config
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
