"""Sampling reasoning paths: request planning and seeds, and the engines that generate them.

`requests` (per-request seeds, planning, which backend runs: torch-free, the orchestrator
uses it), `transformers_backend` and `static_engine` (our CUDA-graph decoder), `vllm_backend`,
`vllm_python` (where vLLM's interpreter is) and `sampler` (the k-pass loop). May import
`rft.task`, `rft.models` and below.
"""
