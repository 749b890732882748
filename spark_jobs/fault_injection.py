"""Fault injection for the reliability tests (tests/faults/): inert unless a test arms it.

To crash or race a real write at a named point, a test sets, in the environment of the
process that writes (a Dagster run, `rft import`, the test itself):

    RFT_TEST_FAULT=<point>:<table>:<folder>

- `pause-before-commit`: the write to `rft.<table>` stops after part of its data files are
  on disk and before its Delta commit. Its rows are split over two Spark tasks; the first
  writes its files, the second writes `<folder>/paused` and waits for `<folder>/release`.
  Meanwhile the test kills the Spark server (a crash mid-commit), kills the writing process,
  or commits a competing write (a conflict); then it creates `release`, or not.
- `fail-after-commit`: the write to `rft.<table>` commits, then the writing process raises
  `InjectedFault`: an asset that fails midway, after some of its tables were written.

Each point fires once per folder (`<folder>/fired`), so a retry or a re-run goes through.

It cannot fire in production: besides RFT_TEST_FAULT it needs PYTEST_CURRENT_TEST, which
pytest sets while a test runs (processes the test starts inherit it). Without both, the
functions below return at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pyspark.sql import DataFrame

ENV = "RFT_TEST_FAULT"
PAUSE_BEFORE_COMMIT = "pause-before-commit"
FAIL_AFTER_COMMIT = "fail-after-commit"
POINTS = (PAUSE_BEFORE_COMMIT, FAIL_AFTER_COMMIT)
MAX_PAUSE_S = 600.0  # a paused task gives up by itself if the test never comes back


class InjectedFault(RuntimeError):
    """The failure a test asked for (never raised outside tests)."""


def arm(point: str, table: str, folder: Path | str) -> dict[str, str]:
    """The environment entry that arms `point` for writes to `rft.<table>`."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}: one of {POINTS}")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return {ENV: f"{point}:{table}:{folder}"}


def _armed(point: str, table: str) -> Path | None:
    """The folder of the fault armed at `point` for `table`, if any and not yet fired."""
    spec = os.environ.get(ENV)
    if not spec or not os.environ.get("PYTEST_CURRENT_TEST"):
        return None
    armed_point, armed_table, folder = spec.split(":", 2)
    if (armed_point, armed_table) != (point, table) or Path(folder, "fired").exists():
        return None
    return Path(folder)


def before_commit(table: str, rows: DataFrame) -> DataFrame:
    """`rows` as they are, or (armed) split over two tasks of which the second waits."""
    folder = _armed(PAUSE_BEFORE_COMMIT, table)
    if folder is None:
        return rows
    Path(folder, "fired").touch()
    return rows.repartition(2).mapInArrow(_second_task_waits(str(folder)), rows.schema)


def after_commit(table: str) -> None:
    folder = _armed(FAIL_AFTER_COMMIT, table)
    if folder is None:
        return
    Path(folder, "fired").touch()
    raise InjectedFault(f"injected fault after the commit to rft.{table} ({ENV})")


def _second_task_waits(folder: str):
    def pass_rows(batches):
        from pyspark import TaskContext  # runs in the server's Python worker

        if TaskContext.get().partitionId() == 1:
            Path(folder, "paused").touch()
            parent, deadline = os.getppid(), time.monotonic() + MAX_PAUSE_S
            while not Path(folder, "release").exists():
                # An orphaned worker (its server was killed) or a forgotten test: stop waiting.
                if os.getppid() != parent or time.monotonic() > deadline:
                    raise InjectedFault("paused write abandoned")
                time.sleep(0.05)
        yield from batches

    return pass_rows
