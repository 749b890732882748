"""pyspark's loggers are made once, so Spark errors in many threads leave the logger class alone."""

import logging
import sys
import threading

from pyspark.logger import PySparkLogger

from spark_jobs.pyspark_loggers import PYSPARK_LOGGERS, use_made_pyspark_loggers


def logger_classes_seen_while(get_logger, threads: int = 8, calls: int = 3000) -> set:
    """The logger classes another thread saw while `threads` threads each called `get_logger` `calls` times."""
    seen = set()

    def fail_many_times():
        for _ in range(calls):
            get_logger("SQLQueryContextLogger")  # what each Spark error with a SQL context does

    workers = [threading.Thread(target=fail_many_times) for _ in range(threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, as on a busy server: the race shows within a second
    try:
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            seen.add(logging.getLoggerClass())  # what Dagster reads to make a run's console logger
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    seen.add(logging.getLoggerClass())
    return seen


def test_pyspark_gets_its_made_loggers_without_setting_the_logger_class(monkeypatch):
    use_made_pyspark_loggers()
    set_classes = []
    monkeypatch.setattr(logging, "setLoggerClass", set_classes.append)
    loggers = [PySparkLogger.getLogger(name) for name in PYSPARK_LOGGERS]
    assert [type(logger) for logger in loggers] == [PySparkLogger] * len(PYSPARK_LOGGERS)
    assert [logger.name for logger in loggers] == list(PYSPARK_LOGGERS)
    assert loggers == [logging.getLogger(name) for name in PYSPARK_LOGGERS]  # the same objects
    assert set_classes == []


def test_spark_errors_in_many_threads_never_show_another_thread_a_pyspark_logger_class():
    use_made_pyspark_loggers()
    assert logger_classes_seen_while(PySparkLogger.getLogger) == {logging.Logger}


def test_installing_twice_keeps_one_wrapper_and_a_new_name_still_gets_a_pyspark_logger():
    use_made_pyspark_loggers()
    first = PySparkLogger.getLogger
    use_made_pyspark_loggers()
    assert PySparkLogger.getLogger is first
    logger = PySparkLogger.getLogger("test_pyspark_loggers.new")
    assert isinstance(logger, PySparkLogger) and logging.getLoggerClass() is logging.Logger
