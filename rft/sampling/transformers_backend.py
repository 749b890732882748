"""The transformers sampling backend: a model decoded by the static engine or by `generate`.

Both engines draw each token from a uniform number hashed from (seed, step), so a row's text
depends on its own seed only (`rft.sampling.requests`):
- "static": a static KV cache and a CUDA-graphed decode step (`rft.sampling.static_engine`), for
  Llama and Qwen2 models; several times faster than `generate` on a GPU for small models;
- "generate": `model.generate` with a logits processor that applies the per-row draw; works
  for every causal LM transformers loads. "auto" (the default) takes "static" when it can.
"""

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from rft.sampling.requests import SamplingBackend, Seeding
from rft.sampling.static_engine import StaticDecoder, UnsupportedModel, model_shape, pick_tokens

ENGINES = ("auto", "static", "generate")  # the transformers backend's decoders


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
        self.last_finish_reasons: list[str] = []
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
        eos = self.tokenizer.eos_token_id
        self.last_finish_reasons = ["eos" if ids[-1:] == [eos] else "length" for ids in new_ids]
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


def make_backend(name: str, model, tokenizer, **kw) -> SamplingBackend:
    """A backend around an already loaded transformers model (vLLM loads its own: load_backend)."""
    if name == "transformers":
        return TransformersBackend(model, tokenizer, **kw)
    if name == "vllm":
        raise ValueError("vLLM loads the model itself: use load_backend('vllm', checkpoint)")
    raise ValueError(f"unknown sampling backend {name!r}: use 'transformers'")
