"""A sampling job killed part-way resumes from where it stopped.

`sampled_paths[small-a]` runs as a Dagster run in its own process; its sampling step (a Pipes
subprocess) is killed with SIGKILL once two of its eight chunks are saved. Materialising the
partition again keeps those chunks, samples only the rest, and writes exactly the rows, texts
and seeds of the clean run, once each.
"""

import signal
import time

import psutil

from tests.faults.lab import A, COMPARED, K, N_TRAIN

CHUNK_ROWS = 4  # resume_chunk_rows of the lab's config


def wait_for_step(run, module: str, timeout: float = 300) -> psutil.Process:
    """The step process `python -m <module>` that the run started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert run.poll() is None, run.log.read_text(errors="replace")[-4000:]
        for child in psutil.Process(run.pid).children(recursive=True):
            try:
                if module in child.cmdline():
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.1)
    raise AssertionError(f"no {module} process after {timeout} s")


def test_a_sampling_job_killed_midway_resumes_with_the_same_rows(lab, recorder, request):
    parts = lab.home / "runs" / "sample" / A / "samples.parquet.parts"
    with recorder.fault(request.node.name, "kill -9 of the sampling step after 2 of its 8 chunks",
                        f"sampled_paths[{A}] (rft.steps.sample)"):
        run = lab.start_dagster(request.node.name, "sampled_paths", A)
        step = wait_for_step(run, "rft.steps.sample")
        while len(list(parts.glob("part-*.parquet"))) < 2:
            assert step.is_running(), "the step ended before it was killed"
            time.sleep(0.02)
        step.send_signal(signal.SIGKILL)
        assert run.wait(timeout=300) != 0  # the run failed with its step
        saved = len(list(parts.glob("part-*.parquet")))
        assert 2 <= saved < N_TRAIN * K // CHUNK_ROWS

        result = lab.materialize("sampled_paths", partition=A)
        resumed = result.asset_materializations_for_node("sampled_paths")[0].metadata["resumed_paths"].value
        assert resumed == saved * CHUNK_ROWS
        assert not parts.exists()
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
