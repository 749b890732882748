"""Coverage-guided fuzzing (atheris, libFuzzer) of the import-file reader, rft.ingest.generation_files.

    python fuzz/fuzz_import_files.py --format=jsonl -runs=20000 -dict=fuzz/import_jsonl.dict CORPUS fuzz/seeds_import/jsonl
    python fuzz/fuzz_import_files.py --format=parquet -runs=20000 CORPUS fuzz/seeds_import/parquet

(libFuzzer adds the inputs it finds interesting to the first folder: give it a scratch one.)
Each input becomes a file with the format's suffix, and `read_records` reads it to the end.
The contract (the module's docstring): every row comes back as (Row, dict) with rising 1-based
numbers (consecutive for Parquet; JSONL skips blank lines), or the reader raises `InvalidImport`. Any other exception is a failure; a hang or a
crash is one too (libFuzzer's -timeout and -rss_limit_mb catch those and stop the run).

For Parquet, random bytes are rarely more than "not a Parquet file", so an input whose first
byte is odd is read instead as edits to one of the valid seed files in fuzz/seeds_import/parquet:
(offset, byte) pairs that overwrite the seed, plus a cut of its tail. That reaches the pages,
the schema and the values inside a file whose footer still parses.

`--stats=FILE` writes {"fuzz_inputs", "fuzz_failures", "failures"} as JSON every 1000 inputs and
at the end; `--failures=DIR` keeps each failing input there (the exact file read) for a
regression test. Failures are counted, not fatal, so one run reports them all.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from rft.ingest.generation_files import InvalidImport, Row, read_records
    if "--format=parquet" in sys.argv:
        import pyarrow.parquet  # noqa: F401 - its Python layer too, so coverage guides past the footer

SEEDS = Path(__file__).resolve().parent / "seeds_import" / "parquet"
KEEP_FAILURES = 20


def patched(seed: bytes, data: bytes) -> bytes:
    """The seed with data's edits: byte 1 picks how much of the tail to cut, then (offset, value) triples."""
    edits = atheris.FuzzedDataProvider(data)
    cut = edits.ConsumeIntInRange(0, 255)
    out = bytearray(seed[: len(seed) - cut] if cut < 64 else seed)  # cut the tail only now and then
    while edits.remaining_bytes() >= 3 and out:
        offset = edits.ConsumeIntInRange(0, len(out) - 1)
        out[offset] = edits.ConsumeInt(1) & 0xFF
    return bytes(out)


def check_rows(path: Path) -> None:
    """Reads the file to the end; raises anything outside the reader's contract."""
    previous = 0
    for row, record in read_records(path):
        # JSONL rows are numbered by line, and blank lines are skipped: rising, not consecutive.
        rising = row.number == previous + 1 if row.parquet else row.number > previous
        if not (isinstance(row, Row) and rising and isinstance(record, dict)):
            raise AssertionError(f"after row {previous}: got {row!r} with {type(record).__name__}")
        if not all(isinstance(key, str) for key in record):
            raise AssertionError(f"{row}: a field name that is not a string")
        previous = row.number


class Harness:
    def __init__(self, fmt: str, stats: Path | None, failures: Path | None, runs: int | None):
        self.fmt, self.stats, self.failures_dir, self.runs = fmt, stats, failures, runs
        self.seeds = [p.read_bytes() for p in sorted(SEEDS.glob("*.parquet"))] if fmt == "parquet" else []
        # One file, rewritten for every input: tmpfs where there is one, as disk writes would dominate.
        where = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = Path(tempfile.mkdtemp(prefix="rft-fuzz-", dir=where))
        self.path = self.dir / f"input.{fmt}"
        self.inputs, self.failures, self.kept = 0, 0, []

    def content(self, data: bytes) -> bytes:
        if self.fmt == "parquet" and self.seeds and data and data[0] & 1:
            return patched(self.seeds[(data[0] >> 1) % len(self.seeds)], data[1:])
        return data

    def one_input(self, data: bytes) -> None:
        content = self.content(data)
        self.path.write_bytes(content)
        self.inputs += 1
        problem = None
        try:
            check_rows(self.path)
        except InvalidImport:
            pass  # the reader's own clear refusal: the expected outcome for broken files
        except Exception as error:  # noqa: BLE001 - every other escape is a finding
            problem = f"{type(error).__name__}: {error}"
        if problem is not None:
            self.record(content, problem)
        if self.inputs % 1000 == 0 or self.inputs == self.runs:
            self.write_stats()

    def record(self, content: bytes, problem: str) -> None:
        self.failures += 1
        if len(self.kept) < KEEP_FAILURES:
            self.kept.append({"input": content[:300].decode("latin-1"), "problem": problem[:300]})
            if self.failures_dir is not None:
                self.failures_dir.mkdir(parents=True, exist_ok=True)
                (self.failures_dir / f"failure-{self.failures}.{self.fmt}").write_bytes(content)
        print(f"FAILURE ({len(content)} bytes): {problem[:300]}", file=sys.stderr, flush=True)

    def write_stats(self) -> None:
        if self.stats is not None:
            stats = {"fuzz_inputs": self.inputs, "fuzz_failures": self.failures, "failures": self.kept}
            tmp = self.stats.with_suffix(".tmp")
            tmp.write_text(json.dumps(stats, indent=2))
            tmp.replace(self.stats)


def option(argv: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")), None)


def main(argv: list[str]) -> None:
    fmt = option(argv, "format") or "jsonl"
    if fmt not in ("jsonl", "parquet"):
        sys.exit(f"--format must be jsonl or parquet, not {fmt!r}")
    stats, failures = option(argv, "stats"), option(argv, "failures")
    runs = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("-runs=")), None)
    harness = Harness(fmt, Path(stats) if stats else None, Path(failures) if failures else None, runs)
    atheris.Setup([a for a in argv if not a.startswith("--")], harness.one_input)
    atheris.Fuzz()  # libFuzzer exits the process when done


if __name__ == "__main__":
    main(sys.argv)
