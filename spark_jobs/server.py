"""One Spark Connect server per warehouse, shared by every process that uses it.

A local SparkSession costs a JVM start (about 20 s with Delta) in every process that makes
one, and Hive's embedded Derby metastore admits one process at a time. Dagster runs each
step in its own process, and people run `rft sql` while Dagit is up, so instead one
long-lived Spark Connect server owns the warehouse and the metastore, and every process
is a thin client (`SparkSession.builder.remote(...)`), connected in well under a second.

The server is started on first use and found again through `<warehouse>/_spark/server.json`;
a file lock makes concurrent first uses start exactly one server. Point `remote` at a
cluster's Connect server instead and nothing here runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

DELTA_PACKAGE = "io.delta:delta-spark_4.2_2.13:4.4.0"
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_PORT = 15002


class SparkServerError(RuntimeError):
    """The Spark Connect server could not be started or reached."""


@dataclass(frozen=True)
class ServerConfig:
    """How to start the local Spark Connect server for one warehouse."""

    warehouse: Path  # root folder: Delta tables, metastore, server state and logs
    master: str = "local[*]"  # any Spark master URL: local[2], local-cluster[2,1,1024], spark://...
    port: int = DEFAULT_PORT
    driver_memory: str = "4g"  # in local mode executors live in the driver JVM
    shuffle_partitions: int = 8
    ivy_dir: Path = field(default_factory=lambda: Path.home() / ".ivy2.5.2")  # jar cache, kept warm
    extra_conf: tuple[tuple[str, str], ...] = ()
    start_timeout_s: float = 600.0  # a cold Ivy fetch of the Delta jars takes ~30 s, slow mirrors longer

    @property
    def state_dir(self) -> Path:
        return self.warehouse / "_spark"

    @property
    def scratch_dir(self) -> Path:
        """spark.local.dir of a local master: shuffle files and each start's copy of the Delta jars."""
        return self.state_dir / "scratch"

    @property
    def tables_dir(self) -> Path:
        """spark.sql.warehouse.dir: one `<database>.db` folder of table folders per database."""
        return self.warehouse / "tables"

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"


def spark_conf(cfg: ServerConfig) -> dict[str, str]:
    """Spark settings of the server: Delta, a Hive catalog inside the warehouse, loopback only."""
    metastore = cfg.warehouse / "_metastore" / "metastore_db"
    conf = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(cfg.tables_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        "spark.jars.ivy": str(cfg.ivy_dir),
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(cfg.port),
        "spark.driver.memory": cfg.driver_memory,
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        # Delta replays a table's log in 50 tasks by default: for our few-file tables that is
        # pure task overhead on every read (a third of a 1M-path verify+dedup run, measured in
        # benches/results/verify_dedupe_runs.jsonl). A cluster with huge logs can raise it.
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.ui.enabled": "false",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={cfg.warehouse / '_metastore'}",
        # Delta's optimistic transactions already retry; schema checks stay strict.
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }
    if cfg.master.startswith("local"):
        # Not /tmp: a server that is killed leaves ~90 MB there per start (jar copies, shuffle
        # files), which fills a machine's disk over many runs. Inside the warehouse they are
        # found and cleared at the next start. A cluster's executors keep their own local dirs.
        conf["spark.local.dir"] = str(cfg.scratch_dir)
    conf.update(dict(cfg.extra_conf))
    return conf


def _pyspark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _require_java() -> str:
    """The java Spark will run (spark-class takes $JAVA_HOME/bin/java when JAVA_HOME is set)."""
    install = "install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home, "bin", "java")
        if not java.is_file():
            raise SparkServerError(f"JAVA_HOME is {java_home}, which has no bin/java. Spark needs Java 17: "
                                   f"point JAVA_HOME at a Java 17 installation, or unset it to use `java` on PATH.")
        return str(java)
    java = shutil.which("java")
    if not java:
        raise SparkServerError(f"Java was not found (no `java` on PATH and JAVA_HOME unset). "
                               f"Spark needs Java 17: {install}.")
    return java


def require_java_unless_remote() -> None:
    """Before any work: a local server will be needed, so Java must be there (RFT_SPARK_REMOTE: not needed)."""
    if not os.environ.get("RFT_SPARK_REMOTE"):
        _require_java()


def server_command(cfg: ServerConfig) -> list[str]:
    home = _pyspark_home()
    cmd = [str(home / "bin" / "spark-submit"), "--master", cfg.master, "--class", CONNECT_SERVER_CLASS]
    cmd += ["--packages", DELTA_PACKAGE]
    for key, value in spark_conf(cfg).items():
        cmd += ["--conf", f"{key}={value}"]
    return cmd + ["spark-internal"]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_server(pid: int, cfg: ServerConfig) -> bool:
    """Whether `pid` is this warehouse's server. A server killed -9 leaves its state file behind,
    and process ids are reused (within minutes on a busy machine): never signal a stranger."""
    try:
        cmdline = psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False
    return CONNECT_SERVER_CLASS in cmdline and any(str(cfg.warehouse) in arg for arg in cmdline)


def read_state(cfg: ServerConfig) -> dict | None:
    path = cfg.state_dir / "server.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_running(cfg: ServerConfig) -> bool:
    state = read_state(cfg)
    return bool(state and _is_server(state["pid"], cfg) and _port_open(state["port"]))


@contextmanager
def _locked(cfg: ServerConfig):
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    with open(cfg.state_dir / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_server(cfg: ServerConfig) -> str:
    """Start the warehouse's server unless it already runs; return its `sc://` URL."""
    with _locked(cfg):
        if is_running(cfg):
            return f"sc://127.0.0.1:{read_state(cfg)['port']}"
        _require_java()
        if _port_open(cfg.port):
            raise SparkServerError(
                f"Port {cfg.port} is taken by another process, not this warehouse's Spark server "
                f"({cfg.warehouse}). Choose another port (RFT_SPARK_PORT) or stop that process."
            )
        return _start(cfg)


def _clear_scratch(cfg: ServerConfig) -> None:
    """Remove what an earlier server left in the scratch folder; called only when none runs."""
    shutil.rmtree(cfg.scratch_dir, ignore_errors=True)
    cfg.scratch_dir.mkdir(parents=True, exist_ok=True)


def _start(cfg: ServerConfig) -> str:
    log_path = cfg.state_dir / "server.log"
    _clear_scratch(cfg)
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(_pyspark_home()),
        SPARK_LOCAL_IP="127.0.0.1",
        # Python UDFs run in workers started by the server: use this interpreter, which has `rft`.
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    env.pop("SPARK_REMOTE", None)
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            server_command(cfg), stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=cfg.state_dir, start_new_session=True,  # outlives the process that started it
        )
    deadline = time.monotonic() + cfg.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SparkServerError(
                f"The Spark Connect server exited with code {proc.returncode} while starting. "
                f"Last lines of {log_path}:\n{_tail(log_path)}"
            )
        if _port_open(cfg.port):
            state = {"pid": proc.pid, "port": cfg.port, "master": cfg.master, "started_at": time.time()}
            (cfg.state_dir / "server.json").write_text(json.dumps(state))
            return cfg.url
        time.sleep(0.5)
    proc.kill()
    raise SparkServerError(f"The Spark Connect server did not open port {cfg.port} in time; see {log_path}")


def stop_server(cfg: ServerConfig, timeout_s: float = 30.0) -> bool:
    """Stop the warehouse's server if it runs; True when one was stopped."""
    with _locked(cfg):
        state = read_state(cfg)
        (cfg.state_dir / "server.json").unlink(missing_ok=True)
        if not state or not _is_server(state["pid"], cfg):
            return False
        os.killpg(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(state["pid"]) and time.monotonic() < deadline:
            _reap(state["pid"])
            time.sleep(0.2)
        if _pid_alive(state["pid"]):
            os.killpg(state["pid"], signal.SIGKILL)
        return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"
