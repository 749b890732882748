"""External-process entry points for the GPU (or CPU) side of the pipeline.

Each step reads a JSON spec (a typed model of `rft/steps/step_specs.py`: a bad field is an error
that names it), reads and writes plain files (Parquet, checkpoint folders), and
reports through Dagster Pipes when Dagster launched it, or prints a JSON summary otherwise:

    python -m rft.steps.train --spec train.json
    python -m rft.steps.sample --spec sample.json
    python -m rft.steps.evaluate --spec evaluate.json
    python -m rft.steps.heldout_loss --spec heldout_loss.json   # a base model's loss on held-out text

They import neither Spark nor Dagster (only the optional, tiny `dagster_pipes`), so they run on
machines that have just torch, transformers and peft, or, for sampling and evaluation with
vLLM, in vLLM's own environment (`scripts/vllm_env.sh`: `.venv-vllm/bin/python -m rft.steps.sample`).
Sampling and evaluation start one worker per visible GPU (`rft/steps/gpu_workers.py`).
"""
