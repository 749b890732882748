"""Damaged Delta transaction logs: find the damaged commit file, say how to restore, set it aside.

A Delta table is its `_delta_log` folder: one JSON file per commit (version), with Hadoop's
`.crc` checksum beside each on a local filesystem, and Parquet checkpoints every few commits.
A torn or overwritten commit file makes the whole table unreadable, and Spark's error names a
file deep in a JVM stack trace. This module turns that into an error that names the table,
the commit and the way back, and does the one repair that is safe without a backup: setting
aside a damaged *latest* commit, so the table reads as the version before it and the asset
that wrote the commit can write it again. Nothing is deleted: the files move to
`<table>/_damaged_log/`.

A missing checkpoint needs no repair: Delta rebuilds the state from the JSON commits, which
the project's tables keep for ten years (delta.logRetentionDuration), and reads every row.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

LOG = "_delta_log"
SET_ASIDE = "_damaged_log"
COMMIT = re.compile(r"^(\d{20})\.json$")
# Spark names the file it failed on, e.g. "file:/w/rft.db/t/_delta_log/00000000000000000012.json".
LOG_FILE_IN_ERROR = re.compile(r"(?:(file:[^\s'\"]*?)/)?_delta_log/(\d{20})\.json")
# Hadoop's local checksum file: b"crc\0", bytes per checksum (big-endian int), one CRC32 per chunk.
CRC_MAGIC = b"crc\x00"


class DamagedTableError(RuntimeError):
    """A project table whose transaction log cannot be read."""


@dataclass(frozen=True)
class DamagedCommit:
    version: int
    path: Path
    reason: str  # "checksum mismatch", "not JSON (line 3)", ...


def damaged_version_in(message: str) -> int | None:
    """The commit version of the log file a Spark error names, if it names one."""
    found = LOG_FILE_IN_ERROR.search(message)
    return int(found.group(2)) if found else None


def local_location_in(message: str) -> Path | None:
    """The table folder of the log file a Spark error names, when it is on a local disk."""
    found = LOG_FILE_IN_ERROR.search(message)
    if not found or not found.group(1):
        return None
    return Path("/" + found.group(1).removeprefix("file:").lstrip("/"))


def looks_like_damaged_log(message: str) -> bool:
    """Spark's error for an unreadable commit file (checksum, JSON or read failure on a log file)."""
    if damaged_version_in(message) is None:
        return False
    return any(mark in message for mark in ("ChecksumException", "FAILED_READ_FILE", "JsonParseException",
                                             "MALFORMED", "Unexpected end-of-input", "EOFException"))


def commits(location: Path) -> dict[int, Path]:
    """Every commit file of the table's log, by version."""
    found = {}
    for path in (location / LOG).iterdir():
        match = COMMIT.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def check_commit(path: Path) -> str | None:
    """Why a commit file is damaged, or None when its checksum (if any) and JSON lines hold."""
    data = path.read_bytes()
    crc = path.with_name(f".{path.name}.crc")
    if crc.exists() and not _checksum_matches(data, crc.read_bytes()):
        return "its checksum does not match (the file was truncated or overwritten)"
    if not data.strip():
        return "it is empty"
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            action = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return f"line {number} is not JSON"
        if not isinstance(action, dict):
            return f"line {number} is not a Delta action"
    return None


def _checksum_matches(data: bytes, crc_file: bytes) -> bool:
    if len(crc_file) < 8 or crc_file[:4] != CRC_MAGIC:
        return False
    (chunk,) = struct.unpack(">i", crc_file[4:8])
    if chunk <= 0:
        return False
    sums = crc_file[8:]
    expected = [struct.unpack(">I", sums[i:i + 4])[0] for i in range(0, len(sums) - 3, 4)]
    actual = [zlib.crc32(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    return expected == actual


def commits_read_on_load(location: Path) -> dict[int, Path]:
    """The commits Delta replays to load the table: those after its last checkpoint (all of
    them when there is none, or when the checkpoint's file is missing)."""
    every = commits(location)
    try:
        last = int(json.loads((location / LOG / "_last_checkpoint").read_text())["version"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return every
    prefix = f"{last:020d}.checkpoint"
    if not any(p.name.startswith(prefix) for p in (location / LOG).iterdir()):
        return every
    return {v: p for v, p in every.items() if v > last}


def damaged_commits(location: Path, *, only_read_on_load: bool = False) -> list[DamagedCommit]:
    """The damaged commit files of a table's log, oldest first."""
    found = []
    files = commits_read_on_load(location) if only_read_on_load else commits(location)
    for version, path in sorted(files.items()):
        reason = check_commit(path)
        if reason:
            found.append(DamagedCommit(version, path, reason))
    return found


def how_to_restore(table: str, damaged: DamagedCommit | None, latest: int | None) -> str:
    """What to do about a damaged log, for the error message and `rft repair`."""
    if damaged is None:
        return (f"Check the files of {table}'s {LOG} folder, or restore the folder from a backup; "
                f"`rft repair {table.split('.')[-1]}` finds a damaged commit when the table is on a local disk.")
    if damaged.version == latest:
        return (f"Commit {damaged.version} is the latest: `rft repair {table.split('.')[-1]}` sets it aside "
                f"(into {SET_ASIDE}/, nothing is deleted), the table then reads as version {damaged.version - 1} "
                f"(`DESCRIBE HISTORY {table}`; `RESTORE TABLE {table} TO VERSION AS OF N` for an older one), and "
                f"re-materialising the asset that wrote the commit writes its rows again.")
    if latest is None:  # the log folder is not on this machine's disk
        return (f"If commit {damaged.version} is the table's latest, `rft repair {table.split('.')[-1]}` on the "
                f"machine that holds the warehouse sets it aside; otherwise restore the {LOG} folder from a "
                f"backup, or drop {table} and re-materialise the assets that write it.")
    return (f"Commit {damaged.version} has later commits on top of it, so it cannot be set aside: restore the "
            f"{LOG} folder from a backup, or drop {table} and re-materialise the assets that write it.")


def describe(table: str, location: Path | None, spark_message: str) -> str:
    """The message of a DamagedTableError: the table, the commit and why, and how to restore."""
    damaged, latest = None, None
    if location is not None and (location / LOG).is_dir():
        found = damaged_commits(location)
        damaged = found[0] if found else None
        latest = max(commits(location), default=None)
    if damaged is None and (version := damaged_version_in(spark_message)) is not None:
        damaged = DamagedCommit(version, Path(LOG) / f"{version:020d}.json", "Spark could not read it")
    what = (f"commit {damaged.version} ({damaged.path.name}): {damaged.reason}" if damaged
            else "a file of its transaction log")
    return (f"{table} cannot be read: its transaction log is damaged at {what}. Nothing was read from the "
            f"table, so no rows were dropped silently. {how_to_restore(table, damaged, latest)}")


def check_tables(database_dir: Path, names: list[str], database: str) -> None:
    """Raise a DamagedTableError for the first table whose log Delta could not load.

    Reads only the commit files a load replays (a few KB per table), so every run can start
    with it and fail with a clear message instead of a JVM stack trace halfway through."""
    for name in names:
        location = database_dir / name
        if (location / LOG).is_dir() and damaged_commits(location, only_read_on_load=True):
            raise DamagedTableError(describe(f"{database}.{name}", location, ""))


def set_aside_latest(location: Path) -> DamagedCommit:
    """Move the damaged latest commit (and its checksum files) into `<table>/_damaged_log/`.

    Refuses when the log is intact, or when the damaged commit is not the latest (later
    commits were written on top of it, so removing it would leave a gap in the log)."""
    found = damaged_commits(location)
    if not found:
        raise DamagedTableError(f"{location}: no damaged commit in {LOG}; nothing to set aside")
    damaged, latest = found[0], max(commits(location))
    if damaged.version != latest or len(found) > 1:
        raise DamagedTableError(f"{location}: commit {damaged.version} is damaged but commit {latest} is the latest; "
                                f"setting it aside would leave a gap in the log. Restore {LOG} from a backup, or "
                                f"drop the table and re-materialise the assets that write it.")
    target = location / SET_ASIDE
    target.mkdir(exist_ok=True)
    name = damaged.path.name
    for sidecar in (name, f".{name}.crc", f"{damaged.version:020d}.crc", f".{damaged.version:020d}.crc.crc"):
        source = location / LOG / sidecar
        if source.exists():
            source.rename(target / sidecar)
    return damaged
