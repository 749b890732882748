"""A Dagster run terminated mid-step through Dagster's API (what Dagit's Terminate button calls).

`dagster dev` serves the lab's instance and code location; a run of cross_model_job is launched
and terminated through its GraphQL API while the step's write to rft.distinct_paths is on its
way (part of its data files on disk, the commit not yet made). The run ends CANCELED; the
table holds either the previous version or the whole new batch, never a part; a re-run
completes with the clean run's rows.
"""

import pytest

from free_ports import free_port
from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from spark_jobs.schemas import ALL_TABLES
from tests.browser.dagit_server import DagitError, start_dagit, write_instance_config
from tests.faults.lab import COMPARED, wait_paused

TABLE = "distinct_paths"
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
TERMINATE = """mutation($runId: String!) { terminateRun(runId: $runId) {
  __typename ... on TerminateRunFailure { message } ... on PythonError { message } } }"""
JOB = {"repositoryLocationName": "rft_lakehouse", "repositoryName": "__repository__", "jobName": "cross_model_job"}


@pytest.fixture
def dagit(lab, tmp_path):
    """`dagster dev` on the lab's instance, with the write to rft.distinct_paths armed to pause."""
    write_instance_config(lab.home / "dagster")
    env = lab.env(**arm(PAUSE_BEFORE_COMMIT, TABLE, tmp_path / "pause"))
    server = start_dagit(env, free_port(), tmp_path / "dagster_dev.log")
    server.process.log = server.log_path  # what wait_paused shows if dagster dev exits early
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def test_a_run_terminated_mid_write_commits_nothing_partial_and_a_rerun_completes(lab, dagit, recorder, request,
                                                                                  tmp_path):
    version, before = lab.lake.version(TABLE), lab.data_files_on_disk(TABLE)
    with recorder.fault(request.node.name, "a Dagster run terminated through the API (Dagit's Terminate)",
                        f"cross_model_job while distinct_paths writes rft.{TABLE}"):
        launched = dagit.graphql(LAUNCH, params={"selector": JOB, "runConfigData": {}})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        wait_paused(tmp_path / "pause", dagit.process, lambda: lab.data_files_on_disk(TABLE) - before)

        terminated = dagit.graphql(TERMINATE, runId=run_id)["terminateRun"]
        assert terminated["__typename"] == "TerminateRunSuccess", terminated
        (tmp_path / "pause" / "release").touch()  # the server may finish the write the run no longer waits for
        with pytest.raises(DagitError, match="CANCELED"):
            dagit.wait_for_run(run_id, timeout_s=300)

        now = lab.lake.version(TABLE)
        assert now in (version, version + 1)  # the previous version, or the whole batch once
        assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
        lab.manifests_pin_their_rows()

        lab.execute("cross_model_job")
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
