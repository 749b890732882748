"""What a Dagster run did, in words: one line per step (what it made, how much, how long), or why it failed.

    sampled_paths[tiny-llama-a]                            640 rows     12.3 s
    marts                            12 assets, 30/30 checks passed     14.0 s

The numbers come from the events Dagster records for the run: each materialisation's metadata
(`rows`, or `n_examples` for a training step) and each step's duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dagster itself only where events are read: `rft --help` stays quick
    import dagster as dg

LABEL_WIDTH, SUMMARY_WIDTH = 32, 30
ERROR_CHARS = 300  # of a failed step's message; the whole traceback is in the log file


class JobFailed(RuntimeError):
    """A job run that did not succeed: which job, which run, and what its failed steps said."""

    def __init__(self, label: str, run_id: str, errors: list[str]):
        self.label, self.run_id, self.errors = label, run_id, errors
        detail = "".join(f"\n  {error}" for error in errors)
        super().__init__(f"{label} failed (run {run_id}; its events are in Dagit: rft ui){detail}")


@dataclass
class StepReport:
    """What one step of a run did, from its events."""

    step: str
    assets: list[tuple[str, str | None, dict]] = field(default_factory=list)  # (asset, partition, metadata)
    checks: list[bool] = field(default_factory=list)  # passed, per asset check evaluated
    seconds: float | None = None  # set when the step succeeded
    error: str | None = None  # set when the step failed


def step_reports(events: Iterable[dg.DagsterEvent]) -> list[StepReport]:
    """The steps of a run in the order they started, with what each materialised."""
    import dagster as dg

    steps: dict[str, StepReport] = {}
    for event in events:
        if event.step_key is None:
            continue
        report = steps.setdefault(event.step_key, StepReport(event.step_key))
        data = event.event_specific_data
        if event.is_step_materialization:
            m = data.materialization
            metadata = {k: v.value for k, v in m.metadata.items()}
            report.assets.append((m.asset_key.to_user_string(), m.partition, metadata))
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            report.checks.append(bool(data.passed))
        elif event.is_step_success:
            report.seconds = data.duration_ms / 1000
        elif event.is_step_failure:
            report.error = failure_message(data)
    return list(steps.values())


def failure_message(data) -> str:
    """The user's own words where there are some: a dg.Failure's description, else the cause's message."""
    if data.user_failure_data is not None and data.user_failure_data.description:
        text = data.user_failure_data.description
    else:
        error = data.error
        text = (error.cause or error).message if error is not None else "failed"
    text = " ".join(text.split())
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 3] + "..."


def rows_written(metadata: Mapping[str, object]) -> str:
    """`640 rows`, or for a training step `200 examples` (summed over its checkpoints); "" if neither."""
    if isinstance(metadata.get("rows"), int):
        return f"{metadata['rows']:,} rows"
    examples = [v for k, v in metadata.items() if k == "n_examples" or k.endswith("/n_examples")]
    if not examples:
        return ""
    text = f"{sum(examples):,} examples"
    return text if len(examples) == 1 else f"{text}, {len(examples)} checkpoints"


def step_summary(report: StepReport) -> tuple[str, str]:
    """The label (an asset with its partition, or the step for several assets) and what was made."""
    if len(report.assets) == 1:
        asset, partition, metadata = report.assets[0]
        label, made = (f"{asset}[{partition}]" if partition else asset), rows_written(metadata)
    else:
        label = report.step
        made = f"{len(report.assets)} assets" if report.assets else ""
    if report.checks:
        made += f"{', ' if made else ''}{sum(report.checks)}/{len(report.checks)} checks passed"
    return label, made


def stage_line(label: str, made: str, seconds: float | None) -> str:
    took = f"{seconds:8.1f} s" if seconds is not None else ""
    return f"{label:<{LABEL_WIDTH}} {made:>{SUMMARY_WIDTH}} {took}".rstrip()


def report_line(report: StepReport) -> str:
    label, made = step_summary(report)
    if report.error is not None:
        return f"{label:<{LABEL_WIDTH}} FAILED: {report.error}"
    if report.seconds is None:  # neither succeeded nor failed: an earlier step failed
        return f"{label:<{LABEL_WIDTH}} not run (an earlier step failed)"
    return stage_line(label, made, report.seconds)
