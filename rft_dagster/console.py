"""Where a command's output goes: one line per stage on the console, the rest in a log file.

    with command_output("demo", home, verbose=False) as log:   # log: $RFT_HOME/logs/demo-<time>.log
        run_pipeline(...)                                      # stage lines on the console
    print(table)                                               # the console again

Quiet (the default): while the jobs run, this process's standard output and error, down to its
file descriptors, go to the log file: Dagster's loggers, the dbt CLI, Spark's client, Python's
warnings, and the external steps, which inherit them. The console gets the stage lines of
`rft_dagster.job_runs` and, on a terminal, what is running meanwhile. `--verbose` leaves
everything on the console, as it always was, stage lines included.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from rft.home import Home

CLEAR_LINE = "\r\x1b[K"


def log_path(home: Home, command: str, now: datetime) -> Path:
    return home.root / "logs" / f"{command}-{now:%Y%m%d-%H%M%S}.log"


def rft_command(home_flag: str | None) -> str:
    """How to call `rft` on the same home again: with the --home this command was given."""
    return f"rft --home {shlex.quote(home_flag)}" if home_flag else "rft"


def next_steps(rft: str, home: Home, log: Path | None) -> str:
    """Where to look after a run: Dagit, SQL, the HTML report, and the full log."""
    lines = [
        "next:",
        f"  {rft} ui       Dagit: every run, each asset's metadata and plots",
        f'  {rft} sql "SELECT model, training_set, accuracy FROM rft.eval_results"',
        f"  {rft} report   one HTML page with the tables and plots: {home.root / 'report.html'}",
    ]
    if log is not None:
        lines.append(f"  full log: {log}")
    return "\n".join(lines)


class StageHandler(logging.Handler):
    """Stage lines on `stream`; with `transient`, what is running shows until the next line replaces it."""

    def __init__(self, stream: TextIO, transient: bool):
        super().__init__()
        self.stream, self.transient, self.pending = stream, transient, False

    def emit(self, record: logging.LogRecord) -> None:
        running = getattr(record, "rft_running", False)
        if running and not self.transient:
            return
        text = record.getMessage()
        clear = CLEAR_LINE if self.pending else ""
        self.stream.write(clear + text + ("" if running else "\n"))
        self.stream.flush()
        self.pending = running


@contextmanager
def command_output(command: str, home: Home, verbose: bool) -> Iterator[Path | None]:
    """Stage lines on the console; unless `verbose`, everything else in a new log file (yielded).

    An exception leaving the block carries a note naming the log file, for main to print.
    """
    if verbose:  # every line, as it comes, among Dagster's own
        marked = logging.StreamHandler(sys.stdout)
        marked.setFormatter(logging.Formatter("==> %(message)s"))
        with _stage_lines(marked):
            yield None
        return
    path = log_path(home, command, datetime.now())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", buffering=1, encoding="utf-8", errors="replace") as log, ExitStack() as stack:
        console = stack.enter_context(_console_stream(sys.stdout))
        print(f"rft {command}: full log in {path}", file=console, flush=True)
        log_lines = logging.StreamHandler(log)
        log_lines.setFormatter(logging.Formatter("%(asctime)s rft: %(message)s"))
        try:
            with _stage_lines(StageHandler(console, transient=console.isatty()), log_lines), \
                    _without_preview_warnings(), _output_to(log):
                yield path
        except BaseException as exc:
            exc.add_note(f"full log: {path}")
            raise


@contextmanager
def _stage_lines(*handlers: logging.Handler) -> Iterator[None]:
    from rft_dagster.job_runs import stages

    level, propagate = stages.level, stages.propagate
    stages.setLevel(logging.INFO)
    stages.propagate = False  # only here: not twice through a handler someone put on the root logger
    for handler in handlers:
        stages.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            stages.removeHandler(handler)
        stages.setLevel(level)
        stages.propagate = propagate


@contextmanager
def _console_stream(stream: TextIO) -> Iterator[TextIO]:
    """A stream that still reaches the console once file descriptors 1 and 2 point at the log.

    A stream without a descriptor (a test's StringIO) is the console itself.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        yield stream
        return
    stream.flush()
    with open(os.dup(fd), "w", buffering=1, encoding=stream.encoding or "utf-8", errors="replace") as console:
        yield console


@contextmanager
def _output_to(log: TextIO) -> Iterator[None]:
    """sys.stdout, sys.stderr and descriptors 1 and 2 (which child processes inherit) into `log`."""
    saved_streams = sys.stdout, sys.stderr
    for stream in saved_streams:
        stream.flush()
    saved_fds = os.dup(1), os.dup(2)
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout = sys.stderr = log
        yield
    finally:
        for stream in (sys.stdout, sys.stderr, *saved_streams):
            stream.flush()  # what was written before the switch back still goes to the log
        sys.stdout, sys.stderr = saved_streams
        for fd, saved in zip((1, 2), saved_fds):
            os.dup2(saved, fd)
            os.close(saved)


@contextmanager
def _without_preview_warnings() -> Iterator[None]:
    """Dagster's notes that an API is in preview speak to this project's developers, not to its users."""
    from dagster import PreviewWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PreviewWarning)
        yield
