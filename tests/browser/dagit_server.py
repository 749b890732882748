"""`dagster dev -w workspace.yaml` as a subprocess for browser tests, and its GraphQL API.

Everything it starts binds to 127.0.0.1 (webserver) or localhost (code server); it gets its own
DAGSTER_HOME and RFT_HOME, so runs, partitions and Delta tables of a test never mix with others.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rft.home import PROJECT_ROOT

RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
INSTANCE_YAML = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"


class DagitError(RuntimeError):
    pass


@dataclass
class DagitServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql", data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        if body.get("errors"):
            raise DagitError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def run_ids(self) -> set[str]:
        return {run["runId"] for run in self.graphql(RUNS)["runsOrError"]["results"]}

    def launched_run(self, before: set[str], timeout_s: float = 120) -> str:
        """The one run that exists now and did not in `before`: what a click just launched."""
        def new():
            fresh = self.run_ids() - before
            if len(fresh) > 1:
                raise DagitError(f"expected one launch, found {sorted(fresh)}")
            return next(iter(fresh), None)

        deadline = time.monotonic() + timeout_s
        while (found := new()) is None:
            if time.monotonic() > deadline:
                raise DagitError(f"nothing was launched within {timeout_s:.0f} s")
            time.sleep(1)
        return found

    def wait_for_run(self, run_id: str, timeout_s: float) -> str:
        """Wait until the run ends; its status, or an error with the failed steps' messages."""
        def read():
            return self.graphql(RUN_STATUS, runId=run_id)["runOrError"]["status"]

        status = self._poll(timeout_s, f"run {run_id}", read, RUN_DONE)
        if status != "SUCCESS":
            raise DagitError(f"run {run_id} ended {status}:\n{self.run_errors(run_id)}")
        return status

    def run_errors(self, run_id: str) -> str:
        events = self.graphql(RUN_ERRORS, runId=run_id)["logsForRun"].get("events", [])
        lines = [f"{e.get('stepKey') or 'run'}: {e['message']} {(e.get('error') or {}).get('message', '')}"
                 for e in events if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent", "EngineEvent")
                 and (e["__typename"] != "EngineEvent" or e.get("error"))]
        return "\n".join(lines) or f"(no failure events; see {self.log_path})"

    def _poll(self, timeout_s: float, what: str, read, done: set[str]) -> str:
        deadline, status = time.monotonic() + timeout_s, None
        while time.monotonic() < deadline:
            status = read()
            if status in done:
                return status
            if self.process.poll() is not None:
                raise DagitError(f"dagster dev exited while waiting for {what}; see {self.log_path}")
            time.sleep(2)
        raise DagitError(f"{what} did not finish in {timeout_s:.0f} s (last status {status}); see {self.log_path}")

    def wait_until_ready(self, timeout_s: float = 600) -> None:
        """Wait until the webserver answers and its code location has loaded."""
        self._poll(timeout_s, "the code location to load", lambda: _location_status(self), {"LOADED", "ERROR"})
        if _location_status(self) == "ERROR":
            raise DagitError(f"the code location failed to load: {self.graphql(LOCATIONS)}")

    def stop(self, timeout_s: float = 60) -> None:
        """Interrupt `dagster dev` (it stops its webserver, daemon and code server), then its whole group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        try:  # run workers and the steps they started live in the same process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def write_instance_config(dagster_home: Path) -> None:
    """Before anything opens the instance: no telemetry, no first-visit pop-up over the pages."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)


def start_dagit(env: dict[str, str], port: int, log_path: Path) -> DagitServer:
    """Start `dagster dev` on 127.0.0.1:port with the instance of env's DAGSTER_HOME; returns at once."""
    command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_interruptible)
    return DagitServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)


def _interruptible() -> None:
    # A shell's background job ignores SIGINT, and dagster dev maps SIGTERM to the same handler:
    # without this, `stop()` could only kill it, leaving no time for its graceful shutdown.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _location_status(server: DagitServer) -> str:
    try:
        data = server.graphql(LOCATIONS)
    except (urllib.error.URLError, ConnectionError):
        return "NOT_SERVING"
    entries = data["workspaceOrError"].get("locationEntries", [])
    if any(e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] == "PythonError" for e in entries):
        return "ERROR"
    statuses = {e["loadStatus"] for e in entries}
    return "LOADED" if statuses == {"LOADED"} else "LOADING"


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS = "{ runsOrError(limit: 100) { ... on Runs { results { runId } } } }"
RUN_STATUS = "query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"
RUN_ERRORS = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
  __typename ... on MessageEvent { message } ... on StepEvent { stepKey }
  ... on ExecutionStepFailureEvent { error { message } } ... on RunFailureEvent { message }
  ... on EngineEvent { error { message } } } } } }"""
