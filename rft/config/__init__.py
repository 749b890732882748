"""Settings: the run's YAML config as typed pydantic models, the paper's values as defaults.

`rft_config` (the whole config, `load_config`), `train_config` (fine-tuning hyper-parameters)
and `study_config` (the scaling studies). Imports only pydantic and yaml, so the orchestrator
and the GPU steps both read it cheaply. Imports nothing else of `rft`.
"""
