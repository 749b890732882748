"""A write that ran out of disk: a clear error instead of a JVM stack trace.

Spark writes a table's data files before Delta commits them; when the disk fills up midway
the job fails and nothing is committed (the files already written are not part of any
version, and VACUUM removes them). The table reads as before, so freeing space and running the
same materialisation again writes the rows once.
"""

from __future__ import annotations

import re

NO_SPACE = "No space left on device"


class DiskFullError(OSError):
    """A Delta write that failed for lack of disk space; nothing of it was committed."""


def is_disk_full(error: BaseException) -> bool:
    return NO_SPACE in str(error)


def disk_full_message(table: str, error: BaseException) -> str:
    """What happened, what state the table is in, and what to do; with the file Spark named."""
    text = str(error)
    where = re.search(r"(?:file:)?(/[^\s:'\"]+)[^\n]*" + re.escape(NO_SPACE), text)
    place = f" while writing {where.group(1)}" if where else ""
    return (f"{table}: the write failed because the disk is full ({NO_SPACE}{place}). Nothing was committed: "
            f"the table reads as it did before this write. Free some space on the warehouse's disk, then run the "
            f"same materialisation again; it writes its rows once.")
