"""What every step shares: reading its spec (rft/steps/step_specs.py), thread setup, Parquet I/O, reporting.

Reporting goes through Dagster Pipes only when the process was launched by Pipes (the
DAGSTER_PIPES_CONTEXT variable is set); run by hand, a step logs to stderr and prints one JSON
summary line to stdout. `dagster_pipes` is optional: without it, steps still run standalone.
"""

import argparse
import contextlib
import json
import os
import sys
import time
from typing import TypeVar

import pandas as pd
import torch

from rft.steps.step_specs import StepSpec, read_spec

Spec = TypeVar("Spec", bound=StepSpec)


def parse_spec(doc: str, spec_type: type[Spec], argv: list[str] | None = None) -> Spec:
    """`--spec FILE` from the command line, read as `spec_type`; `doc` (the step's docstring) is --help.

    A bad file is a SpecError naming the step, the file and each bad field.
    """
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="path to the step's JSON spec file")
    # parse_known_args: Pipes may add its own --dagster-pipes-* arguments.
    args, _ = parser.parse_known_args(argv)
    return read_spec(spec_type, args.spec)


def set_threads(spec: StepSpec) -> None:
    """All cores by default; `num_threads` in the spec when the machine is shared."""
    torch.set_num_threads(spec.num_threads or os.cpu_count() or 1)


def read_records(path: str) -> list[dict]:
    return pd.read_parquet(path).to_dict("records")


def write_parquet_atomic(df: pd.DataFrame, path: str) -> None:
    """Write to a temporary name, then rename: readers never see half a file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_json(obj: dict, path: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=str)
    os.replace(tmp, path)


class Reporter:
    """Logs and the final materialization report, to Dagster Pipes or to stdout/stderr."""

    def __init__(self, step: str, pipes=None, asset_key: str | None = None):
        self.step, self.pipes, self.asset_key = step, pipes, asset_key
        self.start = time.perf_counter()

    def log(self, message: str) -> None:
        if self.pipes is not None:
            self.pipes.log.info(message)
        else:
            print(f"[{self.step}] {message}", file=sys.stderr, flush=True)

    def report(self, metadata: dict) -> None:
        metadata = {**metadata, "step_seconds": round(time.perf_counter() - self.start, 2)}
        if self.pipes is not None:
            # A custom message, not a materialization: one asset may run several steps, and the
            # asset itself reports what it wrote to the lakehouse.
            self.pipes.report_custom_message(metadata)
        else:
            print(json.dumps({"step": self.step, **metadata}, default=str), flush=True)


@contextlib.contextmanager
def reporter(spec: StepSpec):
    """A Reporter bound to Dagster Pipes when launched by Pipes, standalone otherwise."""
    if not _launched_by_pipes():
        yield Reporter(spec.step)
        return
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        yield Reporter(spec.step, pipes, spec.asset_key)


def _launched_by_pipes() -> bool:
    try:
        from dagster_pipes import PipesEnvVarParamsLoader
    except ImportError:
        return False
    return PipesEnvVarParamsLoader().is_dagster_pipes_process()
