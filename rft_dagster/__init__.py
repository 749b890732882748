"""Dagster code location of rft-lakehouse: `dagster dev -w workspace.yaml`."""
