"""Shared fixtures: one Spark Connect server (real Spark, real Delta) for the whole test session."""

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
