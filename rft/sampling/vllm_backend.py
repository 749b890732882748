"""The vLLM sampling backend: one request per (question, sample), each with its own seed.

vLLM pins its own torch, so it runs in its own environment (`scripts/vllm_env.sh` builds
`.venv-vllm` with the CPU build; the GPU machine carries the CUDA build): the step runs as
`.venv-vllm/bin/python -m rft.steps.sample --spec FILE`. Like every step process, a script
that builds this backend needs an `if __name__ == "__main__":` guard (vLLM may spawn workers).

    backend = VllmBackend("checkpoints/tiny-llama-a/sft", batch_size=1024)
    texts = backend.generate(prompts, temperature=0.7, max_new_tokens=256, seeds=[11, 12, ...])

The project tokenizes itself (its tiny models use a tokenizer it trained), so vLLM gets token
ids (`skip_tokenizer_init=True`), stops at the tokenizer's EOS, and the texts are decoded here
exactly as the transformers backend decodes them. `SamplingParams(seed=...)` per request makes
a text depend on its seed only, whatever else is in the batch (seen on CPU and GPU).
"""

import gc
import os

import torch
from transformers import AutoConfig, AutoTokenizer

from rft.sampling.requests import Seeding

# Set before vLLM is imported (its settings are read from the environment at import).
VLLM_ENV = {
    # Engine in this process: with the engine in a child process, start-up hung for minutes on
    # the GPU machine, and on 2 CPU cores each extra process re-imports vLLM (~30 s each).
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_USE_FLASHINFER_SAMPLER": "0",  # optional kernel package, not carried to the GPU box
    "VLLM_NO_USAGE_STATS": "1",
    "VLLM_DO_NOT_TRACK": "1",
}
# CPU only: vLLM sizes its KV cache from the memory node it sees; 1 GiB holds ~2M tokens of a
# tiny model and leaves room for other processes.
VLLM_CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1"}


CPU_OPTIONS = {
    # torch.compile costs tens of seconds per start and gains little for tiny models.
    "enforce_eager": True,
    # A prompt prefilled in pieces rewinds its seeded generator, which CPU generators cannot do
    # ("CPU Generator does not use offset" as soon as a call's prompts exceed the token budget).
    "enable_chunked_prefill": False,
}


class VllmBackend:
    """`vllm.LLM` on a checkpoint folder (or hub id); token-id prompts, per-request seeds."""

    name = "vllm"
    seeding: Seeding = "request"

    def __init__(self, checkpoint: str, batch_size: int = 1024, **llm_options):
        on_cpu = not torch.cuda.is_available()
        for key, value in {**VLLM_ENV, **(VLLM_CPU_ENV if on_cpu else {})}.items():
            os.environ.setdefault(key, value)
        from vllm import LLM  # after the environment is set

        if on_cpu:
            _check_cpu_head_dim(checkpoint)
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        if self.tokenizer.eos_token_id is None:
            raise ValueError(f"the tokenizer of {checkpoint} has no EOS token: sampling could not stop")
        options = {
            "skip_tokenizer_init": True,
            # Ignore sampling defaults in the model's generation_config.json (top_k, top_p,
            # repetition penalty): the run's config says how to sample, as in transformers.
            "generation_config": "vllm",
            "distributed_executor_backend": "uni",  # one device per worker process
            "seed": 0,
            **(CPU_OPTIONS if on_cpu else {}),
            **llm_options,
        }
        self.llm = LLM(model=checkpoint, **options)
        self.max_model_len = self.llm.llm_engine.model_config.max_model_len
        self.last_token_counts: list[int] = []
        self.last_finish_reasons: list[str] = []

    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seeds: list[int]) -> list[str]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        if len(seeds) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        token_ids = self.tokenizer(prompts)["input_ids"]
        requests, params = [], []
        for ids, seed in zip(token_ids, seeds):
            room = self.max_model_len - len(ids)
            if room < 1:
                raise ValueError(f"a prompt of {len(ids)} tokens leaves no room to generate "
                                 f"(the model's max length is {self.max_model_len})")
            requests.append(TokensPrompt(prompt_token_ids=ids))
            params.append(SamplingParams(
                n=1, seed=seed, temperature=temperature, top_p=1.0, top_k=0,
                max_tokens=min(max_new_tokens, room), stop_token_ids=[self.tokenizer.eos_token_id],
                detokenize=False))
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        new_ids = [list(out.outputs[0].token_ids) for out in outputs]
        self.last_token_counts = [len(ids) for ids in new_ids]
        # "stop": our EOS; "length": max_tokens ran out, so the path is cut, not finished.
        self.last_finish_reasons = ["eos" if out.outputs[0].finish_reason == "stop" else "length"
                                    for out in outputs]
        texts = self.tokenizer.batch_decode(new_ids, skip_special_tokens=True)
        return [t.strip() for t in texts]

    def close(self) -> None:
        """Free the engine, so that the next checkpoint's engine fits (evaluation loads several)."""
        from vllm.distributed.parallel_state import (destroy_distributed_environment,
                                                     destroy_model_parallel)

        del self.llm
        destroy_model_parallel()
        destroy_distributed_environment()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _check_cpu_head_dim(checkpoint: str) -> None:
    """vLLM's CPU attention kernels need heads of 32 dims or more; say so before vLLM fails."""
    try:
        config = AutoConfig.from_pretrained(checkpoint)
    except (OSError, ValueError):
        return  # vLLM reports an unreadable checkpoint itself
    heads = getattr(config, "num_attention_heads", None)
    head_dim = getattr(config, "head_dim", None) or (config.hidden_size // heads if heads else None)
    if head_dim is not None and head_dim < 32:
        raise ValueError(f"{checkpoint}: head_dim {head_dim} < 32, which vLLM's CPU kernels reject; "
                         "use a model with wider heads (every tiny registry model has 32) or the "
                         "transformers backend")
