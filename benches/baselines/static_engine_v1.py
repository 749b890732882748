# The static engine as it was before continuous batching (session 8), kept so that
# benches/sampling_real.py measures before and after in one run. Not used by the product.
"""Fast batched sampling for small Llama-family models: static batches, a static KV cache, and
the decode step captured once as a CUDA graph.

For a model of SmolLM2-135M's size, `model.generate` spends most of each decode step in Python
and kernel launches, not on the GPU: the card idles. Here one decode step for the whole batch
is a fixed sequence of kernels over fixed buffers (tokens, positions, the KV cache, the output),
so it is recorded once as a CUDA graph and replayed: one launch per generated token for the
whole batch, and the host only checks for EOS every few steps.

Every row has its own seed. Its token at step t is drawn by inverse-CDF sampling from
softmax(logits / T) with one uniform number u = uniform(seed, t), a hash of (seed, t) (below),
so a row's text depends on its prompt and seed alone, not on which other rows share the batch
(up to floating-point differences between batch shapes). Temperature 0 is greedy.

    decoder = StaticDecoder(model, max_batch=1024, max_len=512)
    tokens = decoder.generate(prompt_ids, seeds, temperature=0.7, max_new_tokens=256,
                              eos_id=tokenizer.eos_token_id)

Supported: Llama and Qwen2 configurations with the default rotary embedding (SmolLM2, Qwen2.5,
the project's tiny models). Anything else raises `UnsupportedModel`; callers fall back to
`model.generate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

SUPPORTED_MODEL_TYPES = ("llama", "qwen2")
EOS_CHECK_EVERY = 16  # decode steps between host checks for "every row has ended"
_M32 = 0xFFFFFFFF


class UnsupportedModel(ValueError):
    """The model's architecture is not one the static decoder implements."""


# --- per-row random numbers -------------------------------------------------------------------

def _mul32(h: torch.Tensor, c: int) -> torch.Tensor:
    """(h * c) mod 2**32 for h < 2**32, without overflowing int64 (16-bit halves)."""
    return ((h & 0xFFFF) * c + (((h >> 16) * (c & 0xFFFF)) << 16)) & _M32


def _fmix32(h: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finaliser: every input bit flips each output bit about half the time."""
    h = h ^ (h >> 16)
    h = _mul32(h, 0x85EBCA6B)
    h = h ^ (h >> 13)
    h = _mul32(h, 0xC2B2AE35)
    return h ^ (h >> 16)


def uniforms(seeds: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """One number in (0, 1) per row, a function of (seed, step) only; float32, 24 random bits.

    `seeds`: int64 in [0, 2**63); `step`: int64 scalar or one-element tensor.
    """
    h = _fmix32(seeds & _M32)
    h = _fmix32(h ^ ((seeds >> 32) & _M32))
    h = _fmix32(h ^ (step & _M32))
    return ((h >> 8).to(torch.float32) + 0.5) / float(1 << 24)


def pick_tokens(logits: torch.Tensor, seeds: torch.Tensor, step: torch.Tensor,
                temperature: float) -> torch.Tensor:
    """Next token per row: argmax at temperature 0, else one draw from softmax(logits / T)."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    cdf = torch.softmax(logits.float() / temperature, dim=-1).cumsum(dim=-1)
    u = uniforms(seeds, step)[:, None] * cdf[:, -1:]
    return torch.searchsorted(cdf, u).clamp_(max=logits.shape[-1] - 1)[:, 0]


# --- the model's shape --------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    rope_theta: float

    @property
    def group(self) -> int:
        return self.n_heads // self.n_kv_heads

    def kv_bytes_per_token(self, dtype: torch.dtype) -> int:
        itemsize = torch.empty((), dtype=dtype).element_size()
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim * itemsize


def model_shape(config) -> Shape:
    """The attention shape of a Llama/Qwen2 config; `UnsupportedModel` for anything else."""
    model_type = getattr(config, "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise UnsupportedModel(f"static decoding supports {SUPPORTED_MODEL_TYPES}, "
                               f"not model_type {model_type!r}")
    rope = getattr(config, "rope_parameters", None) or {
        "rope_theta": getattr(config, "rope_theta", 10000.0),
        **(getattr(config, "rope_scaling", None) or {})}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type != "default":
        raise UnsupportedModel(f"static decoding supports the default rotary embedding, "
                               f"not rope_type {rope_type!r}")
    if getattr(config, "use_sliding_window", False):
        raise UnsupportedModel("static decoding does not implement sliding-window attention")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    return Shape(config.num_hidden_layers, config.num_attention_heads, n_kv, head_dim,
                 float(rope["rope_theta"]))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


# --- the decoder --------------------------------------------------------------------------------

class StaticDecoder:
    """Batched generation over a preallocated KV cache of `max_batch` rows x `max_len` positions.

    Prompts are left-padded to the longest of their batch; each row's rotary positions start at
    its own first token, so padding changes nothing but the cache slots used.
    """

    def __init__(self, model, max_batch: int, max_len: int, use_cuda_graph: bool | None = None):
        self.model = model.eval()
        self.shape = model_shape(model.config)
        core = model.model
        self.embed, self.layers, self.norm = core.embed_tokens, core.layers, core.norm
        self.lm_head = model.lm_head
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype
        self.max_batch, self.max_len = max_batch, max_len
        self.use_cuda_graph = (self.device.type == "cuda") if use_cuda_graph is None else use_cuda_graph

        s, dev = self.shape, self.device
        cache_shape = (s.n_layers, max_batch, s.n_kv_heads, max_len, s.head_dim)
        self.k_cache = torch.zeros(cache_shape, dtype=self.dtype, device=dev)
        self.v_cache = torch.zeros(cache_shape, dtype=self.dtype, device=dev)
        self.inv_freq = 1.0 / (s.rope_theta ** (
            torch.arange(0, s.head_dim, 2, device=dev, dtype=torch.float32) / s.head_dim))
        self.key_idx = torch.arange(max_len, device=dev)
        # The decode step's state: read and advanced in place, so a graph replay is one step.
        self.tok = torch.zeros(max_batch, dtype=torch.long, device=dev)
        self.pos = torch.zeros(max_batch, dtype=torch.long, device=dev)  # rotary position
        self.start = torch.zeros(max_batch, dtype=torch.long, device=dev)  # first real slot
        self.seeds = torch.zeros(max_batch, dtype=torch.long, device=dev)
        self.slot = torch.zeros(1, dtype=torch.long, device=dev)  # cache slot being written
        self.step = torch.zeros(1, dtype=torch.long, device=dev)  # index of the token drawn
        self.out = torch.zeros(max_batch, max_len, dtype=torch.long, device=dev)
        self._graphs: dict[float, torch.cuda.CUDAGraph] = {}

    @classmethod
    def fit(cls, model, max_len: int, memory_fraction: float = 0.5, cap: int = 4096,
            **kw) -> StaticDecoder:
        """A decoder with as many rows as `memory_fraction` of the free GPU memory holds."""
        first = next(model.parameters())
        if first.device.type != "cuda":
            return cls(model, max_batch=min(cap, 64), max_len=max_len, **kw)
        free, _ = torch.cuda.mem_get_info(first.device)
        shape = model_shape(model.config)
        per_row = max_len * shape.kv_bytes_per_token(first.dtype)
        per_row += model.config.vocab_size * 4 * 3  # logits, probabilities, cumulative sums
        rows = int(free * memory_fraction // per_row)
        return cls(model, max_batch=max(8, min(cap, rows // 8 * 8)), max_len=max_len, **kw)

    @torch.inference_mode()
    def generate(self, prompts: list[list[int]], seeds: list[int], temperature: float,
                 max_new_tokens: int, eos_id: int | None,
                 on_batch: Callable[[int, int], None] | None = None) -> list[list[int]]:
        """New token ids per prompt, cut after the first EOS (kept); `eos_id=None` never stops.

        `on_batch(n_rows, n_new_tokens)` is called after each batch (progress bars).
        """
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        results: list[list[int]] = [[] for _ in prompts]
        # Similar lengths share a batch: less padding in the prefill and the cache.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        for begin in range(0, len(order), self.max_batch):
            rows = order[begin:begin + self.max_batch]
            batch = self._generate_batch([prompts[i] for i in rows], [seeds[i] for i in rows],
                                         temperature, max_new_tokens, eos_id)
            for i, tokens in zip(rows, batch):
                results[i] = tokens
            if on_batch is not None:
                on_batch(len(rows), sum(len(t) for t in batch))
        return results

    def _generate_batch(self, prompts, seeds, temperature, max_new_tokens, eos_id):
        n, width = len(prompts), max(len(p) for p in prompts)
        if min(len(p) for p in prompts) == 0:
            raise ValueError("every prompt needs at least one token")
        if width + max_new_tokens > self.max_len:
            raise ValueError(f"prompt of {width} tokens + {max_new_tokens} new tokens exceeds "
                             f"max_len {self.max_len}")
        if self.use_cuda_graph and temperature not in self._graphs:
            self._capture(temperature)  # before the prefill: warm-up steps scribble on the cache

        rows = self.max_batch  # unused rows decode a one-token dummy prompt
        ids = torch.zeros(rows, width, dtype=torch.long)
        start = torch.full((rows,), width - 1, dtype=torch.long)
        lengths = torch.ones(rows, dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, width - len(p):] = torch.tensor(p, dtype=torch.long)
            start[r], lengths[r] = width - len(p), len(p)
        seeds_t = torch.zeros(rows, dtype=torch.long)
        seeds_t[:n] = torch.tensor(seeds, dtype=torch.long)
        ids, start = ids.to(self.device), start.to(self.device)

        logits = self._prefill(ids, start)
        self.seeds.copy_(seeds_t)
        self.step.fill_(0)
        first = pick_tokens(logits, self.seeds, self.step, temperature)
        self.out[:, 0] = first
        self.tok.copy_(first)
        self.pos.copy_(lengths)
        self.start.copy_(start)
        self.slot.fill_(width)
        self.step.fill_(1)

        steps = 1
        while steps < max_new_tokens:
            if self.use_cuda_graph:
                self._graphs[temperature].replay()
            else:
                self._decode_step(temperature)
            steps += 1
            if eos_id is not None and steps % EOS_CHECK_EVERY == 0:
                if bool((self.out[:n, :steps] == eos_id).any(dim=1).all()):
                    break
        return _cut_at_eos(self.out[:n, :steps].tolist(), eos_id)

    def _rope(self, positions: torch.Tensor):
        freqs = positions[..., None].to(torch.float32) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def _prefill(self, ids: torch.Tensor, start: torch.Tensor, chunk_tokens: int = 65536):
        """Run the prompts, fill cache slots [0, width), return the last position's logits."""
        rows, width = ids.shape
        s = self.shape
        logits = []
        key = torch.arange(width, device=self.device)
        causal = key[None, :] <= key[:, None]
        chunk = max(1, chunk_tokens // width)
        for r0 in range(0, rows, chunk):
            r1 = min(rows, r0 + chunk)
            b, st = r1 - r0, start[r0:r1]
            x = self.embed(ids[r0:r1])
            cos, sin = self._rope((key[None, :] - st[:, None]).clamp(min=0))
            cos, sin = cos[:, None], sin[:, None]
            # Padding slots are never attended to; each query may see itself, so that padding
            # queries (whose outputs are discarded) have one key and no NaN.
            mask = (causal[None] & (key[None, None, :] >= st[:, None, None])) | torch.eye(
                width, dtype=torch.bool, device=self.device)[None]
            mask = mask[:, None]
            for i, layer in enumerate(self.layers):
                attn = layer.self_attn
                h = layer.input_layernorm(x)
                q = attn.q_proj(h).view(b, width, s.n_heads, s.head_dim).transpose(1, 2)
                k = attn.k_proj(h).view(b, width, s.n_kv_heads, s.head_dim).transpose(1, 2)
                v = attn.v_proj(h).view(b, width, s.n_kv_heads, s.head_dim).transpose(1, 2)
                q = q * cos + _rotate_half(q) * sin
                k = k * cos + _rotate_half(k) * sin
                self.k_cache[i, r0:r1, :, :width] = k
                self.v_cache[i, r0:r1, :, :width] = v
                a = F.scaled_dot_product_attention(
                    q, k.repeat_interleave(s.group, dim=1), v.repeat_interleave(s.group, dim=1),
                    attn_mask=mask)
                x = x + attn.o_proj(a.transpose(1, 2).reshape(b, width, -1))
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            logits.append(self.lm_head(self.norm(x[:, -1])))
        return torch.cat(logits)

    def _decode_step(self, temperature: float) -> None:
        """One token for every row: reads tok/pos/slot/step, writes the cache and out, advances."""
        s, b = self.shape, self.max_batch
        x = self.embed(self.tok)[:, None]
        cos, sin = self._rope(self.pos[:, None])
        cos, sin = cos[:, None], sin[:, None]
        visible = (self.key_idx[None] >= self.start[:, None]) & (self.key_idx[None] <= self.slot)
        mask = visible[:, None, None, :]
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            q = attn.q_proj(h).view(b, 1, s.n_heads, s.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(b, 1, s.n_kv_heads, s.head_dim).transpose(1, 2)
            v = attn.v_proj(h).view(b, 1, s.n_kv_heads, s.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            self.k_cache[i].index_copy_(2, self.slot, k)
            self.v_cache[i].index_copy_(2, self.slot, v)
            # Grouped-query attention without copying the cache: the `group` query heads that
            # share a KV head act as `group` queries against it (head h uses KV head h // group).
            q = q.reshape(b, s.n_kv_heads, s.group, s.head_dim)
            a = F.scaled_dot_product_attention(q, self.k_cache[i], self.v_cache[i], attn_mask=mask)
            x = x + attn.o_proj(a.reshape(b, 1, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        logits = self.lm_head(self.norm(x))[:, 0]
        nxt = pick_tokens(logits, self.seeds, self.step, temperature)
        self.out.index_copy_(1, self.step, nxt[:, None])
        self.tok.copy_(nxt)
        self.pos.add_(1)
        self.slot.add_(1)
        self.step.add_(1)

    def _capture(self, temperature: float) -> None:
        """Record one decode step as a CUDA graph (after warm-up steps on a side stream)."""
        self.slot.fill_(0)
        self.step.fill_(1)
        side = torch.cuda.Stream(device=self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                self._decode_step(temperature)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._decode_step(temperature)
        self._graphs[temperature] = graph


def _cut_at_eos(rows: list[list[int]], eos_id: int | None) -> list[list[int]]:
    if eos_id is None:
        return rows
    return [row[:row.index(eos_id) + 1] if eos_id in row else row for row in rows]
