"""Sampling reasoning paths: the backend interface, request planning and seeds, the k-pass loop.

Reproducibility is the point of this module. A backend seeds in one of two ways:

- "request" (vLLM): every (question, sample) is its own request with its own seed,

      seed = sample_seed(base_seed, question_id, sample_idx)   # 63 bits of blake2b

  so a path's text depends only on (model, question, seed): not on the batch, the order, the
  number of GPUs, or which questions were sampled before a crash.
- "batch" (transformers `generate`): one seed per generate call. Pass j walks the questions in
  their given order, cut into batches of `batch_size`, and batch b of pass j uses

      seed = batch_seed(base_seed, j, b) = ((base_seed * 1_000_003 + j) * 1_000_003 + b) mod 2**63

  A batch's texts then depend on (model, questions of that batch, seed), so a resumed run
  regenerates a batch whole and gets exactly the texts the uninterrupted run would have had.

Either way on the same machine: floating-point kernels may differ across hardware.

    backend = load_backend("auto", "checkpoints/tiny-llama-a/sft")   # vllm if importable
    for row in sample_paths(backend, questions, k=4, temperature=0.8, max_new_tokens=256,
                            base_seed=0):
        ...  # {"question_id", "sample_idx", "seed", "text", "n_new_tokens"}
"""

import hashlib
import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from tqdm.auto import tqdm

from rft.prompts import format_prompt

_SEED_MIX = 1_000_003
_SEED_MOD = 2**63

Seeding = Literal["batch", "request"]
BACKENDS = ("auto", "vllm", "transformers")
# How each backend seeds: known without importing it, so requests can be planned anywhere.
SEEDING: dict[str, Seeding] = {"transformers": "batch", "vllm": "request"}


class SamplingBackend(Protocol):
    """Anything that turns prompts into completions: `TransformersBackend`, `VllmBackend`."""

    name: str
    seeding: Seeding  # "batch": one seed per generate call; "request": one seed per prompt
    batch_size: int  # how many prompts one `generate` call should get at most
    # New-token counts of the last `generate` call (EOS included), for throughput reports.
    last_token_counts: list[int]

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


class TransformersBackend:
    """Batched `model.generate` with left padding; stops each row at EOS; one seed per call."""

    name = "transformers"
    seeding: Seeding = "batch"

    def __init__(self, model, tokenizer, batch_size: int = 64, device: str | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device or next(model.parameters()).device
        self.tokenizer.padding_side = "left"
        self.last_token_counts: list[int] = []

    @torch.inference_mode()
    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seeds: list[int]) -> list[str]:
        if len(set(seeds)) > 1:
            raise ValueError("the transformers backend seeds a whole call: got different seeds")
        torch.manual_seed(seeds[0] if seeds else 0)
        texts, counts = [], []
        for start in range(0, len(prompts), self.batch_size):
            chunk_texts, chunk_counts = self._generate_batch(
                prompts[start:start + self.batch_size], temperature, max_new_tokens)
            texts += chunk_texts
            counts += chunk_counts
        self.last_token_counts = counts
        return texts

    def close(self) -> None:
        pass

    def _generate_batch(self, prompts, temperature, max_new_tokens):
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        sampling = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0)
        out = self.model.generate(
            **enc,
            **(sampling if temperature > 0 else dict(do_sample=False)),
            max_new_tokens=max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        new = out[:, enc["input_ids"].shape[1]:]
        counts = _tokens_until_eos(new, self.tokenizer.eos_token_id)
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [t.strip() for t in texts], counts


def vllm_importable() -> bool:
    return importlib.util.find_spec("vllm") is not None


def choose_backend(requested: str, vllm_available: bool | None = None) -> str:
    """The backend to run: "auto" is vLLM where it is importable, transformers elsewhere."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown sampling backend {requested!r}: use one of {', '.join(BACKENDS)}")
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


def load_backend(name: str, checkpoint: str, batch_size: int = 64,
                 vllm_options: dict | None = None) -> SamplingBackend:
    """The backend `name` ("auto", "vllm", "transformers") serving the model in `checkpoint`."""
    name = choose_backend(name)
    if name == "vllm":
        from rft.sampling_vllm import VllmBackend

        return VllmBackend(checkpoint, batch_size=batch_size, **(vllm_options or {}))
    from rft.models import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(checkpoint)
    return TransformersBackend(model, tokenizer, batch_size=batch_size)


def make_backend(name: str, model, tokenizer, **kw) -> SamplingBackend:
    """A backend around an already loaded transformers model (vLLM loads its own: load_backend)."""
    if name == "transformers":
        return TransformersBackend(model, tokenizer, **kw)
    if name == "vllm":
        raise ValueError("vLLM loads the model itself: use load_backend('vllm', checkpoint)")
    raise ValueError(f"unknown sampling backend {name!r}: use 'transformers'")


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


def run_requests(backend: SamplingBackend, groups: list[list[Request]], temperature: float,
                 max_new_tokens: int, progress: bool = True, desc: str | None = None) -> Iterator[dict]:
    """Generate every group (one `generate` call each); yield a row per kept request."""
    bar = tqdm(total=sum(len(g) for g in groups), desc=desc or f"sample {backend.name}",
               unit="path", disable=not progress, mininterval=1.0)
    n_tokens, start = 0, time.perf_counter()
    for group in groups:
        texts = backend.generate([format_prompt(r.question) for r in group], temperature=temperature,
                                 max_new_tokens=max_new_tokens, seeds=[r.seed for r in group])
        counts = getattr(backend, "last_token_counts", None) or [None] * len(texts)
        for r, text, count in zip(group, texts, counts):
            if r.keep:
                yield {"question_id": r.question_id, "sample_idx": r.sample_idx, "seed": r.seed,
                       "text": text, "n_new_tokens": count}
        n_tokens += sum(c for c in counts if c is not None)
        bar.update(len(group))
        bar.set_postfix(tok_s=f"{n_tokens / (time.perf_counter() - start):.0f}")
    bar.close()


def sample_paths(backend: SamplingBackend, questions: list[dict], k: int, temperature: float,
                 max_new_tokens: int, base_seed: int, progress: bool = True,
                 done: set[tuple] | None = None) -> Iterator[dict]:
    """k sampled paths per question, one row per path, pass by pass; `done` rows are skipped."""
    groups = plan_requests(questions, k, base_seed, backend.batch_size, backend.seeding, done)
    yield from run_requests(backend, groups, temperature, max_new_tokens, progress)


def _tokens_until_eos(new_ids: torch.Tensor, eos_id: int) -> list[int]:
    """Generated tokens per row up to and including the first EOS (padding after it excluded)."""
    is_eos = new_ids == eos_id
    has_eos = is_eos.any(dim=1)
    first = is_eos.int().argmax(dim=1)
    return torch.where(has_eos, first + 1, torch.full_like(first, new_ids.shape[1])).tolist()
