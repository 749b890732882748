"""Stopping the Spark servers the tests start: their warehouses are thrown away afterwards."""

from spark_jobs.server import ServerConfig, stop_server

# After a long run of tests these servers have taken longer than stop_server's 30 s to exit on
# SIGTERM: CI's slowest teardowns were exactly those waits, each ending in SIGKILL. A test's
# warehouse is discarded, so a short grace before SIGKILL loses nothing.
GRACE_S = 5.0


def stop_test_server(cfg: ServerConfig) -> bool:
    """stop_server with a short grace; True when a server was running."""
    return stop_server(cfg, timeout_s=GRACE_S)
