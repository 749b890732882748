"""Shared fixtures: one Spark Connect server (real Spark, real Delta) for the whole test session."""

from pathlib import Path

import pytest

from free_ports import free_port
from rft_dagster.resources import SparkResource
from spark_servers import stop_test_server


@pytest.fixture(scope="session")
def spark_resource(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("warehouse")
    resource = SparkResource(warehouse=str(warehouse), port=free_port(), driver_memory="2g")
    yield resource
    stop_spark(resource)


def stop_spark(resource: SparkResource) -> None:
    """Close the client session first: a Connect client left open retries a dead server at exit."""
    if resource._lakehouse is not None:
        resource._lakehouse.spark.stop()
    stop_test_server(resource.server_config())


@pytest.fixture(scope="session")
def lake(spark_resource):
    return spark_resource.lakehouse()


@pytest.fixture(scope="session")
def spark(lake):
    return lake.spark


# Each folder of tests/ is one kind of test, by what it needs; its name is its marker, so
# `pytest -m pure` (or `pytest tests/pure`) is the quick run and `-m "not browser"` leaves one out.
FOLDER_MARKERS = ("pure", "spark", "dagster", "steps", "browser", "faults")


def pytest_collection_modifyitems(items):
    for item in items:
        folder = Path(item.path).relative_to(Path(__file__).parent).parts[0]
        if folder not in FOLDER_MARKERS:
            raise pytest.UsageError(f"{item.nodeid}: every test lives in one of tests/{{{','.join(FOLDER_MARKERS)}}}/")
        item.add_marker(folder)
