"""Sampling requests and their seeds, and which backend runs them: planned without torch.

Reproducibility is the point of this module. Both backends seed per request: every
(question, sample) has its own seed,

    seed = sample_seed(base_seed, question_id, sample_idx)   # 63 bits of blake2b

so a path's text depends only on (model, question, seed): not on the batch, the order, the
number of GPUs, or which questions were sampled before a crash. vLLM takes the seed per
request; the transformers backend draws each token by inverse-CDF sampling with a uniform
number hashed from (seed, step) (`rft.sampling.static_engine.pick_tokens`).

"batch" seeding (one seed per generate call, batch b of pass j seeded with
batch_seed(base_seed, j, b), a batch regenerated whole on resume) remains for a backend that
can only seed a whole call.

Imports nothing heavy: the orchestrator plans and chooses here, the steps generate.
"""

import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from typing import Literal, Protocol

_SEED_MIX = 1_000_003
_SEED_MOD = 2**63

Seeding = Literal["batch", "request"]
BACKENDS = ("auto", "vllm", "transformers")
STATIC_ENGINE_MODEL_TYPES = ("llama", "qwen2")  # what rft.sampling.static_engine implements
# How each backend seeds: known without importing it, so requests can be planned anywhere.
SEEDING: dict[str, Seeding] = {"transformers": "request", "vllm": "request"}


class SamplingBackend(Protocol):
    """Anything that turns prompts into completions: `TransformersBackend`, `VllmBackend`."""

    name: str
    seeding: Seeding  # "batch": one seed per generate call; "request": one seed per prompt
    batch_size: int  # how many prompts one `generate` call should get at most
    # New-token counts of the last `generate` call (EOS included), for throughput reports.
    last_token_counts: list[int]
    # Per row of the last call: "eos" (the model ended it) or "length" (max_new_tokens cut it).
    last_finish_reasons: list[str]

    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seeds: list[int]) -> list[str]:
        """Completions only (no prompt), special tokens removed, surrounding whitespace stripped.

        `seeds`: one per prompt (all equal for a "batch" backend). Temperature 0 means greedy
        decoding; otherwise pure sampling (no top-k, no top-p).
        """
        ...

    def close(self) -> None:
        """Free the model (and the GPU memory it holds) before another one is loaded."""
        ...


class BackendUnavailable(RuntimeError):
    """The configured backend cannot run in this interpreter; the message says what to do."""


@dataclass(frozen=True)
class Request:
    """One completion to generate: sample `sample_idx` of one question, with its seed."""

    question_id: str
    question: str
    sample_idx: int
    seed: int
    keep: bool = True  # False: an earlier run has it; regenerated only because its batch is


def vllm_importable() -> bool:
    return importlib.util.find_spec("vllm") is not None


def static_engine_supports(config: dict) -> bool:
    """Whether the static engine runs a model with this config.json: Llama or Qwen2 attention,
    the default rotary embedding, no sliding window (`rft.sampling.static_engine.model_shape`)."""
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    return (config.get("model_type") in STATIC_ENGINE_MODEL_TYPES
            and rope.get("rope_type", rope.get("type", "default")) == "default"
            and not config.get("use_sliding_window", False))


def checkpoint_config(checkpoint: str) -> dict:
    """A checkpoint folder's config.json ({} where there is none: a hub id, a GGUF file)."""
    path = os.path.join(checkpoint, "config.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def choose_backend(requested: str, vllm_available: bool | None = None, static_engine: bool = False,
                   gpu: bool = False) -> str:
    """The backend to run. "auto" is the fastest one measured for the model on this machine:

    1. on a GPU, a model the static engine supports (`static_engine_supports`): transformers,
       which decodes with the static engine (2.5 to 3.6 times vLLM's defaults on the same card
       at fixed length, 3.0 to 3.4 times on the real GSM8K workload with EOS honoured, SmolLM2
       and Qwen2.5-Coder-0.5B on an H100: benches/results/sampling.json);
    2. otherwise vLLM, where it is importable;
    3. otherwise transformers (the static engine where it supports the model, else `generate`).
    """
    if requested not in BACKENDS:
        raise ValueError(f"unknown sampling backend {requested!r}: use one of {', '.join(BACKENDS)}")
    if requested == "auto" and gpu and static_engine:
        return "transformers"
    available = vllm_importable() if vllm_available is None else vllm_available
    if requested == "auto":
        return "vllm" if available else "transformers"
    if requested == "vllm" and not available:
        raise BackendUnavailable(
            f"sampling backend 'vllm' needs vLLM, which {sys.executable} cannot import. vLLM pins "
            "its own torch, so it lives in its own environment: `bash scripts/vllm_env.sh` builds "
            ".venv-vllm (CPU), and steps run there with `.venv-vllm/bin/python -m rft.steps.sample`"
            " (the orchestrator does that itself when it finds it, or RFT_VLLM_PYTHON names it)")
    return requested


def batch_seed(base_seed: int, pass_idx: int, batch_idx: int) -> int:
    """The seed of batch `batch_idx` in pass `pass_idx` ("batch" seeding; module docstring)."""
    return ((base_seed * _SEED_MIX + pass_idx) * _SEED_MIX + batch_idx) % _SEED_MOD


def sample_seed(base_seed: int, question_id: str, sample_idx: int) -> int:
    """The seed of one sample ("request" seeding): the same for it in any batch, order or run."""
    key = f"{base_seed}\x1f{question_id}\x1f{sample_idx}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def plan_requests(questions: list[dict], k: int, base_seed: int, batch_size: int,
                  seeding: Seeding, done: set[tuple] | None = None) -> list[list[Request]]:
    """k requests per question, cut into generate calls ("groups"), pass by pass.

    `questions`: dicts with `question_id` and `question`, in a fixed order. `done`:
    (question_id, sample_idx) pairs an earlier run already has. Under "batch" seeding a group
    is a batch of the full question list (its composition fixes its texts), kept whole when
    any of its rows is missing, with done rows marked keep=False. Under "request" seeding only
    the missing requests are planned; groups are `batch_size` of them, and their cut changes
    nothing but progress and chunking.
    """
    done = done or set()
    size = max(1, batch_size)
    if seeding == "request":
        todo = [Request(q["question_id"], q["question"], j, sample_seed(base_seed, q["question_id"], j))
                for j in range(k) for q in questions if (q["question_id"], j) not in done]
        return [todo[i:i + size] for i in range(0, len(todo), size)]
    groups = []
    for j in range(k):
        for b, start in enumerate(range(0, len(questions), size)):
            batch = questions[start:start + size]
            keep = [(q["question_id"], j) not in done for q in batch]
            if any(keep):
                seed = batch_seed(base_seed, j, b)
                groups.append([Request(q["question_id"], q["question"], j, seed, kept)
                               for q, kept in zip(batch, keep)])
    return groups
