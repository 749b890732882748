import dagster as dg

# One partition per model name; `rft models add NAME` (or Dagit) adds one.
models_partitions = dg.DynamicPartitionsDefinition(name="models")
