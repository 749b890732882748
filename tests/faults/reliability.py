"""What the fault tests injected and what they found, written to benches/results/reliability.json.

Each test wraps one injected fault in `recorder.fault(kind, target)`: the fault counts as
survived when every check inside the block passed. Row counts come from comparing a table
after the fault (and the re-run) with the same table after a clean run, key by key.
"""

from __future__ import annotations

import json
import platform
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rft.home import PROJECT_ROOT

REPORT = PROJECT_ROOT / "benches" / "results" / "reliability.json"
FUZZ_STATS = PROJECT_ROOT / "benches" / "results" / "fuzz_stats.json"  # written by the fuzz tests


@dataclass
class Fault:
    test: str
    kind: str  # what was done, e.g. "kill -9 of the Spark server before the commit"
    target: str  # the write or process it hit
    survived: bool = False


@dataclass
class RowDiff:
    """One table compared with the clean run's, by key."""

    table: str
    rows: int  # rows now
    lost: int  # keys of the clean run missing now
    duplicated: int  # rows beyond one per key
    differing: int  # keys present in both whose row differs
    extra: int  # keys the clean run does not have

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.differing or self.extra)


def diff_rows(table: str, key: tuple[str, ...], clean: list[dict], now: list[dict]) -> RowDiff:
    """How `now` differs from `clean`, rows given as dicts of comparable columns."""
    def by_key(rows):
        keyed: dict[tuple, list[dict]] = {}
        for row in rows:
            keyed.setdefault(tuple(row[k] for k in key), []).append(row)
        return keyed

    before, after = by_key(clean), by_key(now)
    return RowDiff(
        table=table, rows=len(now),
        lost=sum(1 for k in before if k not in after),
        duplicated=sum(len(rows) - 1 for rows in after.values()),
        differing=sum(1 for k, rows in after.items() if k in before and rows[0] != before[k][0]),
        extra=sum(1 for k in after if k not in before),
    )


@dataclass
class Recorder:
    faults: list[Fault] = field(default_factory=list)
    diffs: list[RowDiff] = field(default_factory=list)

    @contextmanager
    def fault(self, test: str, kind: str, target: str):
        fault = Fault(test=test, kind=kind, target=target)
        self.faults.append(fault)
        yield fault
        fault.survived = True  # not reached when a check inside the block failed

    def record(self, diff: RowDiff) -> RowDiff:
        self.diffs.append(diff)
        return diff

    def report(self) -> dict:
        fuzz = _fuzz_stats()
        return {
            "faults_injected": len(self.faults),
            "faults_survived": sum(f.survived for f in self.faults),
            "fuzz_inputs": fuzz["fuzz_inputs"],
            "fuzz_failures": fuzz["fuzz_failures"],
            "fuzz_source": fuzz["source"],
            "rows_lost": sum(d.lost for d in self.diffs),
            "rows_duplicated": sum(d.duplicated for d in self.diffs),
            "rows_differing": sum(d.differing + d.extra for d in self.diffs),
            "rows_compared": sum(d.rows for d in self.diffs),
            "tables_compared": len(self.diffs),
            "faults": [asdict(f) for f in self.faults],
            "how": "pytest tests/faults: real processes, a real Spark server and Delta tables; "
                   "rows compared key by key with a clean run's",
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        }

    def write(self, path: Path = REPORT) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.report(), indent=2) + "\n")


def _fuzz_stats() -> dict:
    try:
        stats = json.loads(FUZZ_STATS.read_text())
        return {"fuzz_inputs": int(stats["fuzz_inputs"]), "fuzz_failures": int(stats["fuzz_failures"]),
                "source": str(FUZZ_STATS.relative_to(PROJECT_ROOT))}
    except (FileNotFoundError, KeyError, ValueError):
        return {"fuzz_inputs": 0, "fuzz_failures": 0,
                "source": f"none: the fuzz tests did not run ({FUZZ_STATS.name} not found)"}
