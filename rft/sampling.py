"""Sampling reasoning paths: a backend interface, the transformers backend, and the k-pass loop.

Reproducibility is the point of this module. Every path has its own seed,

    seed = sample_seed(base_seed, question_id, sample_idx)   # 63 bits of sha256

and a backend draws a path's tokens from that seed alone, so a path's text depends on (model,
question, seed), not on the batch it happened to share. A resumed run therefore regenerates
exactly the missing paths, and any path can be reproduced by itself (on the same hardware:
floating-point kernels differ across devices and batch shapes).

    backend = make_backend("transformers", model, tokenizer, batch_size=64)
    for row in sample_paths(backend, questions, k=4, temperature=0.8, max_new_tokens=256,
                            base_seed=0):
        ...  # {"question_id", "sample_idx", "seed", "text", "n_new_tokens"}

The transformers backend has two engines with the same per-row sampling rule
(`rft.static_decoding.pick_tokens`), so for the same seeds they produce the same tokens:
- "static": a static KV cache and a CUDA-graphed decode step (`rft.static_decoding`), for
  Llama and Qwen2 models; many times faster than `generate` on a GPU for small models;
- "generate": `model.generate` with a logits processor that applies the per-row draw; works
  for every causal LM transformers loads.
"auto" (the default) takes "static" when the model supports it.
"""

import hashlib
import time
from collections.abc import Iterator
from typing import Protocol

import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessor, LogitsProcessorList

from rft.prompts import format_prompt
from rft.static_decoding import StaticDecoder, UnsupportedModel, model_shape, pick_tokens

ENGINES = ("auto", "static", "generate")


class SamplingBackend(Protocol):
    """Anything that turns prompts into completions, one seed per prompt."""

    name: str
    batch_size: int  # how many prompts the backend works on at once
    # New-token counts of the last `generate` call, for throughput reports.
    last_token_counts: list[int]

    def generate(self, prompts: list[str], seeds: list[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        """Completions only (no prompt), special tokens removed, surrounding whitespace stripped.

        Prompt i is completed with seeds[i] alone. Temperature 0 means greedy decoding;
        otherwise pure sampling (no top-k, no top-p), as in the paper.
        """
        ...


class TransformersBackend:
    """A transformers model, decoded by the static engine or by `model.generate`."""

    name = "transformers"

    def __init__(self, model, tokenizer, batch_size: int = 64, device: str | None = None,
                 engine: str = "auto"):
        if engine not in ENGINES:
            raise ValueError(f"unknown transformers engine {engine!r}: use one of {ENGINES}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device or next(model.parameters()).device
        self.tokenizer.padding_side = "left"
        self.engine = _choose_engine(engine, model)
        self.last_token_counts: list[int] = []
        self._decoder: StaticDecoder | None = None

    @torch.inference_mode()
    def generate(self, prompts: list[str], seeds: list[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        prompt_ids = self.tokenizer(prompts)["input_ids"]
        if self.engine == "static":
            new_ids = self._decoder_for(max(map(len, prompt_ids)) + max_new_tokens).generate(
                prompt_ids, seeds, temperature, max_new_tokens, self.tokenizer.eos_token_id)
        else:
            new_ids = []
            for start in range(0, len(prompts), self.batch_size):
                new_ids += self._generate_batch(prompt_ids[start:start + self.batch_size],
                                                seeds[start:start + self.batch_size],
                                                temperature, max_new_tokens)
        self.last_token_counts = [len(ids) for ids in new_ids]
        texts = self.tokenizer.batch_decode(new_ids, skip_special_tokens=True)
        return [t.strip() for t in texts]

    def _decoder_for(self, length: int) -> StaticDecoder:
        """The static decoder, rebuilt larger when a batch needs more positions."""
        if self._decoder is None or self._decoder.max_len < length:
            self._decoder = None  # free the old cache first
            max_len = -(-length // 64) * 64
            self._decoder = StaticDecoder(self.model, max_batch=self.batch_size, max_len=max_len)
        return self._decoder

    def _generate_batch(self, prompt_ids, seeds, temperature, max_new_tokens):
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        width = max(map(len, prompt_ids))
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompt_ids],
                                 device=self.device)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompt_ids],
                                 device=self.device)
        processors = LogitsProcessorList()
        if temperature > 0:
            processors.append(_SeededDraw(seeds, temperature, width, self.device))
        # Greedy over the processor's one-hot scores = the seeded draw; plain greedy at T=0.
        out = self.model.generate(input_ids=input_ids, attention_mask=attention,
                                  do_sample=False, logits_processor=processors,
                                  max_new_tokens=max_new_tokens, pad_token_id=pad,
                                  eos_token_id=eos)
        new = out[:, width:].tolist()
        return [row[:row.index(eos) + 1] if eos in row else row for row in new]


class _SeededDraw(LogitsProcessor):
    """Replaces the scores by a one-hot of each row's seeded draw (see static_decoding)."""

    def __init__(self, seeds: list[int], temperature: float, prompt_width: int, device):
        self.seeds = torch.tensor(seeds, dtype=torch.long, device=device)
        self.temperature, self.prompt_width = temperature, prompt_width

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        step = torch.tensor([input_ids.shape[1] - self.prompt_width], device=scores.device)
        picks = pick_tokens(scores, self.seeds, step, self.temperature)
        one_hot = torch.full_like(scores, float("-inf"))
        return one_hot.scatter_(1, picks[:, None], 0.0)


def _choose_engine(engine: str, model) -> str:
    if engine == "generate":
        return engine
    try:
        model_shape(model.config)
        return "static"
    except UnsupportedModel:
        if engine == "static":
            raise
        return "generate"


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


def sample_seed(base_seed: int, question_id: str, sample_idx: int) -> int:
    """The seed of one path: 63 bits of sha256 over (base seed, question id, sample index)."""
    digest = hashlib.sha256(f"{base_seed}\x1f{question_id}\x1f{sample_idx}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def sample_paths(backend: SamplingBackend, questions: list[dict], k: int, temperature: float,
                 max_new_tokens: int, base_seed: int, progress: bool = True,
                 done: set[tuple] | None = None) -> Iterator[dict]:
    """k sampled paths per question, one row per path, pass by pass.

    `questions`: dicts with `question_id` and `question`. `done`: (question_id, sample_idx)
    pairs already sampled by an earlier run; they are skipped. Paths go to the backend in
    chunks of `backend.batch_size`, pass 0 of every question first, so a run stopped early
    has sampled every question about equally often.
    """
    done = done or set()
    todo = [(q, j) for j in range(k) for q in questions if (q["question_id"], j) not in done]
    bar = tqdm(total=len(todo), desc=f"sample {backend.name}", unit="path",
               disable=not progress, mininterval=1.0)
    size = max(1, backend.batch_size)
    n_tokens, start = 0, time.perf_counter()
    for begin in range(0, len(todo), size):
        chunk = todo[begin:begin + size]
        seeds = [sample_seed(base_seed, q["question_id"], j) for q, j in chunk]
        texts = backend.generate([format_prompt(q["question"]) for q, _ in chunk], seeds,
                                 temperature=temperature, max_new_tokens=max_new_tokens)
        counts = getattr(backend, "last_token_counts", None) or [None] * len(texts)
        for (q, j), seed, text, count in zip(chunk, seeds, texts, counts):
            yield {"question_id": q["question_id"], "sample_idx": j, "seed": seed,
                   "text": text, "n_new_tokens": count}
        n_tokens += sum(c for c in counts if c is not None)
        bar.update(len(chunk))
        bar.set_postfix(tok_s=f"{n_tokens / (time.perf_counter() - start):.0f}")
    bar.close()
