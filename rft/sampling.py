"""Sampling reasoning paths: the backend interface, request planning and seeds, the k-pass loop.

Reproducibility is the point of this module. Both backends seed per request: every
(question, sample) has its own seed,

    seed = sample_seed(base_seed, question_id, sample_idx)   # 63 bits of blake2b

so a path's text depends only on (model, question, seed): not on the batch, the order, the
number of GPUs, or which questions were sampled before a crash. vLLM takes the seed per
request; the transformers backend draws each token by inverse-CDF sampling with a uniform
number hashed from (seed, step) (`rft.static_decoding.pick_tokens`), in both of its engines:
- "static": a static KV cache and a CUDA-graphed decode step (`rft.static_decoding`), for
  Llama and Qwen2 models; several times faster than `generate` on a GPU for small models;
- "generate": `model.generate` with a logits processor that applies the per-row draw; works
  for every causal LM transformers loads. "auto" (the default) takes "static" when it can.

"batch" seeding (one seed per generate call, batch b of pass j seeded with
batch_seed(base_seed, j, b), a batch regenerated whole on resume) remains for a backend that
can only seed a whole call.

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
from transformers import LogitsProcessor, LogitsProcessorList

from rft.prompts import format_prompt
from rft.static_decoding import StaticDecoder, UnsupportedModel, model_shape, pick_tokens

ENGINES = ("auto", "static", "generate")  # the transformers backend's decoders

_SEED_MIX = 1_000_003
_SEED_MOD = 2**63

Seeding = Literal["batch", "request"]
BACKENDS = ("auto", "vllm", "transformers")
# How each backend seeds: known without importing it, so requests can be planned anywhere.
SEEDING: dict[str, Seeding] = {"transformers": "request", "vllm": "request"}


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
    """A transformers model, decoded by the static engine or by `model.generate`."""

    name = "transformers"
    seeding: Seeding = "request"

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
    def generate(self, prompts: list[str], *, temperature: float, max_new_tokens: int,
                 seeds: list[int]) -> list[str]:
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

    def close(self) -> None:
        self._decoder = None  # the static KV cache is most of the memory this backend holds

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
