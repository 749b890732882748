import dagster as dg

# One partition per model name; `rft models add NAME` (or Dagit) adds one.
models_partitions = dg.DynamicPartitionsDefinition(name="models")

# Rounds after the first: "1", "2", ... (round 0 is the models' own assets). `rft rounds add MODEL`
# adds the next one. Dagit shows the model x round grid of the rounds assets.
rounds_partitions = dg.DynamicPartitionsDefinition(name="rounds")
model_rounds_partitions = dg.MultiPartitionsDefinition({"model": models_partitions, "round": rounds_partitions})


def model_round_key(model: str, round_: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"model": model, "round": str(round_)})


def model_and_round(context: dg.AssetExecutionContext) -> tuple[str, int]:
    keys = context.partition_key.keys_by_dimension
    return keys["model"], int(keys["round"])
