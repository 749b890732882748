"""Sampling reasoning paths: a backend interface, the transformers backend, and the k-pass loop.

Reproducibility is the point of this module. The paper samples "one seed per pass": pass j
over all questions uses one seed. Here pass j walks the questions in their given order, cut
into batches of `batch_size`, and batch b of pass j is generated with

    seed = batch_seed(base_seed, j, b) = ((base_seed * 1_000_003 + j) * 1_000_003 + b) mod 2**63

(distinct for every pass and batch below a million of each). A batch's text then depends only
on (model, questions of that batch, seed), so a resumed run that regenerates the missing batches
gets exactly the texts the uninterrupted run would have had. On the same machine, that is:
floating-point kernels may differ across hardware and thread counts.

    backend = make_backend("transformers", model, tokenizer, batch_size=64)
    for row in sample_paths(backend, questions, k=4, temperature=0.8, max_new_tokens=256,
                            base_seed=0):
        ...  # {"question_id", "sample_idx", "seed", "text", "n_new_tokens"}
"""

import time
from collections.abc import Iterator
from typing import Protocol

import torch
from tqdm.auto import tqdm

from rft.prompts import format_prompt

_SEED_MIX = 1_000_003
_SEED_MOD = 2**63


class SamplingBackend(Protocol):
    """Anything that turns prompts into completions (transformers now, vLLM later)."""

    name: str
    batch_size: int  # how many prompts one `generate` call should get at most
    # Optional: new-token counts of the last `generate` call, for throughput reports.
    last_token_counts: list[int]

    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seed: int) -> list[str]:
        """Completions only (no prompt), special tokens removed, surrounding whitespace stripped.

        temperature 0 means greedy decoding; otherwise pure sampling (no top-k, no top-p).
        """
        ...


class TransformersBackend:
    """Batched `model.generate` with left padding; stops each row at EOS."""

    name = "transformers"

    def __init__(self, model, tokenizer, batch_size: int = 64, device: str | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device or next(model.parameters()).device
        self.tokenizer.padding_side = "left"
        self.last_token_counts: list[int] = []

    @torch.inference_mode()
    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seed: int) -> list[str]:
        torch.manual_seed(seed)
        texts, counts = [], []
        for start in range(0, len(prompts), self.batch_size):
            chunk_texts, chunk_counts = self._generate_batch(
                prompts[start:start + self.batch_size], temperature, max_new_tokens)
            texts += chunk_texts
            counts += chunk_counts
        self.last_token_counts = counts
        return texts

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


def make_backend(name: str, model, tokenizer, **kw) -> SamplingBackend:
    """The sampling backend called `name` ("transformers"; "vllm" comes in a later issue)."""
    if name == "transformers":
        return TransformersBackend(model, tokenizer, **kw)
    if name == "vllm":
        raise NotImplementedError(
            "sampling backend 'vllm' is not implemented yet (and vLLM is not installed here); "
            "use backend 'transformers'"
        )
    raise ValueError(f"unknown sampling backend {name!r}: use 'transformers'")


def batch_seed(base_seed: int, pass_idx: int, batch_idx: int) -> int:
    """The seed of batch `batch_idx` in pass `pass_idx` (see the module docstring)."""
    return ((base_seed * _SEED_MIX + pass_idx) * _SEED_MIX + batch_idx) % _SEED_MOD


def sample_paths(backend: SamplingBackend, questions: list[dict], k: int, temperature: float,
                 max_new_tokens: int, base_seed: int, progress: bool = True,
                 done: set[tuple] | None = None) -> Iterator[dict]:
    """k sampled paths per question, one row per path, pass by pass.

    `questions`: dicts with `question_id` and `question`, in a fixed order (it defines the
    batches). `done`: (question_id, sample_idx) pairs already sampled by an earlier run; they
    are not yielded again. A batch with any row missing is regenerated whole, because its
    composition is part of what fixes its texts.
    """
    done = done or set()
    size = max(1, backend.batch_size)
    batches = [questions[i:i + size] for i in range(0, len(questions), size)]
    todo = [(j, b, batch) for j in range(k) for b, batch in enumerate(batches)
            if any((q["question_id"], j) not in done for q in batch)]
    bar = tqdm(total=sum(len(batch) for _, _, batch in todo), desc=f"sample {backend.name}",
               unit="path", disable=not progress, mininterval=1.0)
    n_tokens, start = 0, time.perf_counter()
    for j, b, batch in todo:
        seed = batch_seed(base_seed, j, b)
        texts = backend.generate([format_prompt(q["question"]) for q in batch],
                                 temperature=temperature, max_new_tokens=max_new_tokens,
                                 seed=seed)
        counts = getattr(backend, "last_token_counts", None) or [None] * len(texts)
        for q, text, count in zip(batch, texts, counts):
            if (q["question_id"], j) in done:
                continue
            yield {"question_id": q["question_id"], "sample_idx": j, "seed": seed,
                   "text": text, "n_new_tokens": count}
        n_tokens += sum(c for c in counts if c is not None)
        bar.update(len(batch))
        bar.set_postfix(tok_s=f"{n_tokens / (time.perf_counter() - start):.0f}")
    bar.close()


def _tokens_until_eos(new_ids: torch.Tensor, eos_id: int) -> list[int]:
    """Generated tokens per row up to and including the first EOS (padding after it excluded)."""
    is_eos = new_ids == eos_id
    has_eos = is_eos.any(dim=1)
    first = is_eos.int().argmax(dim=1)
    return torch.where(has_eos, first + 1, torch.full_like(first, new_ids.shape[1])).tolist()
