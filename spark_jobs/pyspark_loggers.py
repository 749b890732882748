"""PySpark's own loggers, made once, so that no later thread has to swap the process's logger class.

pyspark 4's `PySparkLogger.getLogger` makes its logger by setting the process-wide logger class
(`logging.setLoggerClass(PySparkLogger)`), calling `logging.getLogger`, then setting the class
back, with no lock. Every Spark Connect error that carries a query context calls it while
being raised, to log that context, and `rft sql` calls it to quiet that log, from 8 threads
when it lists the tables. Two threads in it at once can therefore leave the
process's logger class as PySparkLogger for good (the second thread "restores" the class the
first one set), and a thread that makes a logger meanwhile gets a PySparkLogger.

Both break this project. Dagster makes each run's console logger as
`logging.getLoggerClass()(name, level=...)`, which PySparkLogger refuses: every later
materialisation in the process fails before it starts. And a PySparkLogger takes `extra` as
JSON context, so our stage lines lose their marks. CI saw both after 16 Spark Connect readers
ran beside an import in one process.

`use_made_pyspark_loggers` makes pyspark's loggers once and has `PySparkLogger.getLogger`
return the made one, so the class swap never happens again; a name not made yet (none of
pyspark's own) still goes through pyspark's code, under a lock.
"""

from __future__ import annotations

import logging
import threading

# The names pyspark 4.2 passes to PySparkLogger.getLogger (pyspark/errors/exceptions/base.py
# and pyspark/sql/connect/logging.py).
PYSPARK_LOGGERS = ("DataFrameQueryContextLogger", "SQLQueryContextLogger", "pyspark.sql.connect.logging")

_LOCK = threading.Lock()
_installed = False


def use_made_pyspark_loggers() -> None:
    """Make pyspark's loggers now and serve them from then on (idempotent)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        from pyspark.logger import PySparkLogger

        pyspark_get_logger = PySparkLogger.getLogger

        def get_logger(name: str | None = None) -> logging.Logger:
            made = logging.Logger.manager.loggerDict.get(name) if name else None
            if isinstance(made, PySparkLogger):
                return made
            with _LOCK:
                return pyspark_get_logger(name)

        for name in PYSPARK_LOGGERS:
            pyspark_get_logger(name)
        PySparkLogger.getLogger = staticmethod(get_logger)
        _installed = True
