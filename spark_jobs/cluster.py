"""A Spark standalone cluster on this machine: one master and N workers, loopback only.

For when one local-mode JVM is not enough, or to check that a job gives the same rows on
several executors as in local mode. The daemons come from the pyspark package itself
(`spark-class ...Master` / `...Worker`; the package ships no `sbin/start-*.sh`):

    python -m spark_jobs.cluster start --root .rft_home/cluster --workers 2
    RFT_SPARK_MASTER=spark://127.0.0.1:7077 rft spark start   # the warehouse's server on it
    python -m spark_jobs.cluster status --root .rft_home/cluster
    python -m spark_jobs.cluster stop --root .rft_home/cluster  # after `rft spark stop`

or from Python, stopped even when the body fails:

    with LocalCluster(ClusterConfig(root=tmp, port=free_port(), webui_port=free_port())) as cluster:
        ensure_server(ServerConfig(warehouse=..., master=cluster.master_url))

Under `root`: `logs/` (one log per daemon), `work/worker-<i>/<app>/<executor>/` (each
executor's stdout/stderr, Spark's usual layout) and `cluster.json` (pids and ports, so
another process can stop it). Executors run Python UDFs with the server's interpreter
(`PYSPARK_PYTHON`, set by `spark_jobs.server`), so the project and its packages import there.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from spark_jobs.server import _pid_alive, _port_open, _pyspark_home, _require_java, _tail

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """The standalone cluster did not come up (or did not give an application its executors)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ClusterConfig:
    """A master and `workers` workers on 127.0.0.1; state, logs and executor dirs under `root`."""

    root: Path
    workers: int = 2
    cores_per_worker: int = 1
    memory_per_worker: str = "1g"  # what its executors may take; Spark's executor default is 1g
    port: int = 7077  # master RPC port: spark://127.0.0.1:<port>
    webui_port: int = 8080  # master web UI; its /json/ endpoint is how readiness is checked
    daemon_memory: str = "512m"  # heap of the master and worker JVMs themselves
    start_timeout_s: float = 120.0

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"


class LocalCluster:
    """Start, inspect and stop one standalone cluster; a context manager that always stops it."""

    def __init__(self, cfg: ClusterConfig):
        self.cfg = cfg
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def master_url(self) -> str:
        return self.cfg.master_url

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        cfg = self.cfg
        _require_java()
        for port in (cfg.port, cfg.webui_port):
            if _port_open(port):
                raise ClusterError(f"Port {port} is taken; choose other ports for the cluster.")
        try:
            self._spawn("master", MASTER_CLASS, "--host", "127.0.0.1", "--port", str(cfg.port),
                        "--webui-port", str(cfg.webui_port))
            self._wait(lambda: self.status() is not None, "the master to answer")
            for i in range(cfg.workers):
                work_dir = cfg.root / "work" / f"worker-{i}"
                work_dir.mkdir(parents=True, exist_ok=True)
                self._spawn(f"worker-{i}", WORKER_CLASS, cfg.master_url, "--host", "127.0.0.1",
                            "--cores", str(cfg.cores_per_worker), "--memory", cfg.memory_per_worker,
                            "--work-dir", str(work_dir), "--webui-port", "0")
            self._wait(lambda: len(self.alive_workers()) == cfg.workers, f"{cfg.workers} workers to register")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name: str, main_class: str, *args: str) -> None:
        logs = self.cfg.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        cmd = [str(_pyspark_home() / "bin" / "spark-class"), main_class, *args]
        with open(logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=_daemon_env(self.cfg),
                cwd=self.cfg.root, start_new_session=True,  # its own process group: stop takes executors too
            )
        self._save_state()

    def _save_state(self) -> None:
        state = {"master_url": self.master_url, "port": self.cfg.port, "webui_port": self.cfg.webui_port,
                 "pids": {name: proc.pid for name, proc in self.procs.items()}}
        (self.cfg.root / "cluster.json").write_text(json.dumps(state, indent=2))

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.cfg.start_timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ClusterError(f"The cluster's {name} exited with code {proc.returncode} while waiting "
                                       f"for {what}. Last lines of its log:\n{self._log_tail(name)}")
            if ready():
                return
            time.sleep(0.5)
        raise ClusterError(f"Timed out after {self.cfg.start_timeout_s:.0f} s waiting for {what}. "
                           f"Last lines of the master's log:\n{self._log_tail('master')}")

    def _log_tail(self, name: str) -> str:
        return _tail(self.cfg.root / "logs" / f"{name}.log")

    def status(self) -> dict | None:
        """The master's own report (workers, applications, cores in use), or None if it does not answer."""
        return master_status(self.cfg.webui_port)

    def alive_workers(self) -> list[dict]:
        return [w for w in (self.status() or {}).get("workers", []) if w.get("state") == "ALIVE"]

    def wait_for_executors(self, n: int, timeout_s: float = 120.0) -> None:
        """Wait until running applications hold `n` cores (one executor per 1-core worker)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sum(w.get("coresused", 0) for w in self.alive_workers()) >= n:
                return
            time.sleep(0.5)
        raise ClusterError(f"The cluster did not grant {n} executor cores in {timeout_s:.0f} s: "
                           f"{json.dumps(self.status(), indent=1)[:2000]}")

    def executor_logs(self) -> list[Path]:
        """Every executor's stderr, `work/worker-<i>/<app-id>/<executor-id>/stderr`."""
        return sorted((self.cfg.root / "work").glob("worker-*/app-*/*/stderr"))

    def stop(self, timeout_s: float = 30.0) -> None:
        stop_processes({name: proc.pid for name, proc in self.procs.items()}, timeout_s)
        for proc in self.procs.values():
            proc.wait(timeout=5)
        self.procs.clear()
        (self.cfg.root / "cluster.json").unlink(missing_ok=True)


def _daemon_env(cfg: ClusterConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(_pyspark_home()),
        SPARK_LOCAL_IP="127.0.0.1",  # RPC and web UIs bind to loopback
        SPARK_DAEMON_MEMORY=cfg.daemon_memory,
        SPARK_LOCAL_DIRS=str(cfg.root / "local"),  # executors' shuffle and scratch files, not /tmp
        # No REST submission server: it listens on a fixed port (6066) and accepts jobs unauthenticated.
        SPARK_MASTER_OPTS=(env.get("SPARK_MASTER_OPTS", "") + " -Dspark.master.rest.enabled=false").strip(),
        PYSPARK_PYTHON=sys.executable,
    )
    for key in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED"):
        env.pop(key, None)
    return env


def master_status(webui_port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{webui_port}/json/", timeout=2) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def stop_processes(pids: dict[str, int], timeout_s: float = 30.0) -> None:
    """SIGTERM each daemon's process group (it holds its executors and their Python workers), then SIGKILL."""
    pids = {name: pid for name, pid in pids.items() if not _foreign(pid)}
    for pid in pids.values():
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(_pid_alive(pid) and not _reaped(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids.values():
        _signal_group(pid, signal.SIGKILL)  # stragglers in the group, e.g. an executor slow to exit


def _foreign(pid: int) -> bool:
    """A live process that is not a Spark daemon: the pid of a long-dead cluster, reused."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # gone (its group may still hold executors), or no /proc to ask
    return bool(cmdline) and b"org.apache.spark.deploy" not in cmdline  # a zombie's cmdline is empty


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reaped(pid: int) -> bool:
    """Reap a child that exited (else it stays a zombie and looks alive); False when not our child."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spark_jobs.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--root", type=Path, required=True, help="folder for state, logs and executor dirs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1, help="cores per worker")
    parser.add_argument("--memory", default="1g", help="memory per worker")
    parser.add_argument("--port", type=int, default=7077)
    parser.add_argument("--webui-port", type=int, default=8080)
    args = parser.parse_args(argv)
    state_file = args.root / "cluster.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    if args.action == "start":
        cfg = ClusterConfig(root=args.root, workers=args.workers, cores_per_worker=args.cores,
                            memory_per_worker=args.memory, port=args.port, webui_port=args.webui_port)
        LocalCluster(cfg).start()  # the daemons outlive this process; `stop` ends them
        print(f"{cfg.master_url} with {cfg.workers} workers; web UI http://127.0.0.1:{cfg.webui_port}")
    elif args.action == "stop":
        if state:
            stop_processes(state["pids"])
            state_file.unlink()
        print("stopped" if state else "no cluster was running")
    else:
        report = master_status(state["webui_port"]) if state else None
        workers = [w for w in (report or {}).get("workers", []) if w.get("state") == "ALIVE"]
        print(f"{state['master_url']}: {len(workers)} workers alive" if report else "not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
