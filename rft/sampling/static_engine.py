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

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rft.sampling.decode_attention import decode_attention
from rft.sampling.requests import STATIC_ENGINE_MODEL_TYPES

SUPPORTED_MODEL_TYPES = STATIC_ENGINE_MODEL_TYPES
EOS_CHECK_EVERY = 8  # decode steps between host checks for finished rows (and refills)
MIN_GRAPH_ROWS = 64  # the smallest batch a decode step is captured for
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
    """Continuous batching over a preallocated KV cache of `max_batch` rows x `max_len` positions.

    Every row holds one request at a time. A row whose request ends (EOS, or its token limit)
    is handed the next waiting request at the next host check, so no step is spent decoding
    for rows that have finished while requests wait. Each row's prompt sits at cache positions
    0..len-1 of its own row, and attention reads each row's own prefix only
    (`rft.sampling.decode_attention`), so a step costs what the rows' real lengths cost. When
    the queue is empty the live rows are packed into the first half of the rows, and a decode
    step captured for that smaller batch runs instead, down to `MIN_GRAPH_ROWS`.

    A request's tokens depend on its prompt and seed alone: its draw at step t uses the
    uniform number hashed from (seed, t), whichever row it lands in and whoever shares the batch.
    """

    def __init__(self, model, max_batch: int, max_len: int, use_cuda_graph: bool | None = None,
                 attention_kernel: bool | None = None, min_rows: int = MIN_GRAPH_ROWS):
        self.model = model.eval()
        self.shape = model_shape(model.config)
        core = model.model
        self.embed, self.layers, self.norm = core.embed_tokens, core.layers, core.norm
        self.lm_head = model.lm_head
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype
        self.max_batch, self.max_len = max_batch, max_len
        self.use_cuda_graph = (self.device.type == "cuda") if use_cuda_graph is None else use_cuda_graph
        self.attention_kernel = attention_kernel
        self.min_rows = min_rows
        self._pool = None  # one memory pool for every captured step: they never run at once

        s, dev = self.shape, self.device
        cache_shape = (s.n_layers, max_batch, max_len, s.n_kv_heads, s.head_dim)
        self.k_cache = torch.zeros(cache_shape, dtype=self.dtype, device=dev)
        self.v_cache = torch.zeros(cache_shape, dtype=self.dtype, device=dev)
        self.inv_freq = 1.0 / (s.rope_theta ** (
            torch.arange(0, s.head_dim, 2, device=dev, dtype=torch.float32) / s.head_dim))
        # The decode step's state, one entry per row, read and advanced in place so that a
        # graph replay is one step. A row's `pos` is where the token in `tok` goes in the
        # cache (its rotary position too); `step` is that token's index among the new ones.
        long = dict(dtype=torch.long, device=dev)
        self.rows = torch.arange(max_batch, **long)
        self.tok = torch.zeros(max_batch, **long)
        self.pos = torch.zeros(max_batch, **long)
        self.step = torch.zeros(max_batch, **long)
        self.seeds = torch.zeros(max_batch, **long)
        self.limit = torch.zeros(max_batch, **long)  # new tokens allowed; 0 for an empty row
        self.done = torch.ones(max_batch, dtype=torch.bool, device=dev)
        self.eos = torch.full((1,), -1, **long)  # -1: no EOS, rows stop at their limit
        self.out = torch.zeros(max_batch, max_len, **long)
        self._graphs: dict[tuple[float, int], torch.cuda.CUDAGraph] = {}

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

        `self.last_finish_reasons` then says, per prompt, "eos" or "length" (the limit ended
        it); `self.last_profile` where the time went: decode steps per batch width, prefill
        calls, rows and seconds, host checks. `on_batch(n_rows, n_new_tokens)` is called as
        requests finish (progress bars).
        """
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if prompts and min(len(p) for p in prompts) == 0:
            raise ValueError("every prompt needs at least one token")
        longest = max((len(p) for p in prompts), default=0)
        if longest + max_new_tokens > self.max_len:
            raise ValueError(f"prompt of {longest} tokens + {max_new_tokens} new tokens exceeds "
                             f"max_len {self.max_len}")
        results: list[list[int]] = [[] for _ in prompts]
        reasons: list[str] = ["length"] * len(prompts)
        self.eos.fill_(-1 if eos_id is None else eos_id)
        self.done.fill_(True)
        self.limit.zero_()
        # Longest prompts first: the rows they fill at the start have the most to decode.
        queue = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        queue.reverse()  # popped from the end
        holder = [-1] * self.max_batch  # request index per row, -1 when empty
        width = self.max_batch
        self._profile = {"decode_steps": Counter(), "prefill_calls": 0, "prefill_rows": 0,
                         "prefill_tokens": 0, "prefill_seconds": 0.0, "checks": 0}

        self._admit(queue, holder, prompts, seeds, temperature, max_new_tokens, width)
        while any(h >= 0 for h in holder[:width]):
            for _ in range(EOS_CHECK_EVERY):
                self._step(temperature, width)
            self._profile["decode_steps"][width] += EOS_CHECK_EVERY
            self._profile["checks"] += 1
            done = self.done[:width].tolist()
            finished = [r for r in range(width) if holder[r] >= 0 and done[r]]
            if finished:
                index = torch.tensor(finished, device=self.device)
                tokens = self.out.index_select(0, index).tolist()
                lengths = self.step.index_select(0, index).tolist()
                n_new = 0
                for r, row_tokens, n in zip(finished, tokens, lengths):
                    i = holder[r]
                    results[i] = _cut(row_tokens[:min(n, max_new_tokens)], eos_id)
                    reasons[i] = "eos" if eos_id is not None and results[i][-1:] == [eos_id] else "length"
                    n_new += len(results[i])
                    holder[r] = -1
                if on_batch is not None:
                    on_batch(len(finished), n_new)
            if queue:
                self._admit(queue, holder, prompts, seeds, temperature, max_new_tokens, width)
            else:
                width = self._pack(holder, width)
        self.last_finish_reasons = reasons
        profile = dict(self._profile)
        profile["decode_steps"] = {w: n for w, n in sorted(profile["decode_steps"].items(), reverse=True)}
        profile["prefill_seconds"] = round(profile["prefill_seconds"], 3)
        self.last_profile = profile
        return results

    def _admit(self, queue, holder, prompts, seeds, temperature, max_new_tokens, width) -> None:
        """Give waiting requests to empty rows: prefill their prompts, draw their first tokens."""
        free = [r for r in range(width) if holder[r] < 0]
        taken = []
        while free and queue:
            r, i = free.pop(0), queue.pop()
            holder[r] = i
            taken.append((r, i))
        if not taken:
            return
        started = time.perf_counter()
        rows = torch.tensor([r for r, _ in taken], device=self.device)
        batch = [prompts[i] for _, i in taken]
        lengths = torch.tensor([len(p) for p in batch], device=self.device)
        logits = self._prefill(rows, batch, lengths)
        row_seeds = torch.tensor([seeds[i] for _, i in taken], dtype=torch.long, device=self.device)
        first = pick_tokens(logits, row_seeds, torch.zeros_like(row_seeds), temperature)
        self.out[rows, 0] = first
        self.tok[rows] = first
        self.pos[rows] = lengths
        self.step[rows] = 1
        self.seeds[rows] = row_seeds
        self.limit[rows] = max_new_tokens
        self.done[rows] = (first == self.eos) | (self.limit[rows] <= 1)
        if self.device.type == "cuda":  # the prefill's own time; the next step waits one launch
            torch.cuda.synchronize(self.device)
        profile = self._profile
        profile["prefill_calls"] += 1
        profile["prefill_rows"] += len(batch)
        profile["prefill_tokens"] += sum(map(len, batch))
        profile["prefill_seconds"] += time.perf_counter() - started

    def _pack(self, holder, width: int) -> int:
        """With no request waiting, move live rows to the front and halve the batch they decode in."""
        live = [r for r in range(width) if holder[r] >= 0]
        new_width = width
        while new_width // 2 >= max(self.min_rows, len(live), 1):
            new_width //= 2
        if new_width == width or not live:
            return width
        src = torch.tensor(live, device=self.device)
        dst = torch.arange(len(live), device=self.device)
        for buf in (self.k_cache, self.v_cache):
            buf[:, dst] = buf[:, src].clone()
        for buf in (self.tok, self.pos, self.step, self.seeds, self.limit, self.done, self.out):
            buf[dst] = buf[src].clone()
        self.done[len(live):width] = True
        for j, r in enumerate(live):
            holder[j] = holder[r]
        for j in range(len(live), width):
            holder[j] = -1
        return new_width

    def _step(self, temperature: float, width: int) -> None:
        if not self.use_cuda_graph:
            self._decode_step(temperature, width)
            return
        key = (temperature, width)
        if key not in self._graphs:
            self._capture(temperature, width)
        self._graphs[key].replay()

    def _rope(self, positions: torch.Tensor):
        freqs = positions[..., None].to(torch.float32) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def _prefill(self, rows: torch.Tensor, prompts: list[list[int]], lengths: torch.Tensor,
                 chunk_tokens: int = 65536) -> torch.Tensor:
        """Write the prompts into cache positions 0..len-1 of their rows; the last token's logits.

        Prompts are right-padded: causal attention keeps every real token from seeing the
        padding after it, and the padding's cache slots are overwritten before they are read.
        """
        s, n = self.shape, len(prompts)
        width = max(len(p) for p in prompts)
        ids = torch.zeros(n, width, dtype=torch.long)
        for j, p in enumerate(prompts):
            ids[j, :len(p)] = torch.tensor(p, dtype=torch.long)
        ids = ids.to(self.device)
        cos, sin = self._rope(torch.arange(width, device=self.device))
        cos, sin = cos[None, None], sin[None, None]
        logits = []
        chunk = max(1, chunk_tokens // width)
        for r0 in range(0, n, chunk):
            r1 = min(n, r0 + chunk)
            b, cache_rows = r1 - r0, rows[r0:r1]
            x = self.embed(ids[r0:r1])
            for i, layer in enumerate(self.layers):
                attn = layer.self_attn
                h = layer.input_layernorm(x)
                q = attn.q_proj(h).view(b, width, s.n_heads, s.head_dim).transpose(1, 2)
                k = attn.k_proj(h).view(b, width, s.n_kv_heads, s.head_dim).transpose(1, 2)
                v = attn.v_proj(h).view(b, width, s.n_kv_heads, s.head_dim).transpose(1, 2)
                q = q * cos + _rotate_half(q) * sin
                k = k * cos + _rotate_half(k) * sin
                self.k_cache[i, cache_rows, :width] = k.transpose(1, 2)
                self.v_cache[i, cache_rows, :width] = v.transpose(1, 2)
                a = F.scaled_dot_product_attention(
                    q, k.repeat_interleave(s.group, dim=1), v.repeat_interleave(s.group, dim=1),
                    is_causal=True)
                x = x + attn.o_proj(a.transpose(1, 2).reshape(b, width, -1))
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            last = x[torch.arange(b, device=self.device), lengths[r0:r1] - 1]
            logits.append(self.lm_head(self.norm(last)))
        return torch.cat(logits)

    def _decode_step(self, temperature: float, width: int) -> None:
        """One token for each of the first `width` rows: reads tok/pos/step, writes the cache and out."""
        s, b = self.shape, width
        rows, tok, pos, step = self.rows[:b], self.tok[:b], self.pos[:b], self.step[:b]
        x = self.embed(tok)[:, None]
        cos, sin = self._rope(pos[:, None])
        cos, sin = cos[:, :, None], sin[:, :, None]
        # Keys 0..pos, the new token's own included. A finished row waiting for a request (or,
        # once the queue is empty, for the batch to shrink) reads one key: its output is never
        # used, and reading its whole cache would grow its cost each step until max_len.
        lengths = torch.where(self.done[:b], 1, pos + 1)
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            q = attn.q_proj(h).view(b, 1, s.n_heads, s.head_dim)
            k = attn.k_proj(h).view(b, 1, s.n_kv_heads, s.head_dim)
            v = attn.v_proj(h).view(b, 1, s.n_kv_heads, s.head_dim)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            k_cache, v_cache = self.k_cache[i, :b], self.v_cache[i, :b]
            k_cache.index_put_((rows, pos), k[:, 0])
            v_cache.index_put_((rows, pos), v[:, 0])
            a = decode_attention(q[:, 0], k_cache, v_cache, lengths, use_kernel=self.attention_kernel)
            x = x + attn.o_proj(a.reshape(b, 1, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        logits = self.lm_head(self.norm(x))[:, 0]
        nxt = pick_tokens(logits, self.seeds[:b], step, temperature)
        self.out[:b].index_put_((rows, step), nxt)
        # A finished row decodes on until the host hands it a new request; its counters stop at
        # the cache's last slot, and nothing it writes there is read again.
        self.done[:b] |= (nxt == self.eos) | (step + 1 >= self.limit[:b])
        self.tok[:b] = nxt
        pos.add_(1).clamp_(max=self.max_len - 1)
        step.add_(1).clamp_(max=self.max_len - 1)

    def _capture(self, temperature: float, width: int) -> None:
        """Record one decode step for the first `width` rows as a CUDA graph (after warm-up)."""
        saved = [buf.clone() for buf in (self.tok, self.pos, self.step, self.done, self.out)]
        side = torch.cuda.Stream(device=self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                self._decode_step(temperature, width)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        with torch.cuda.graph(graph, pool=self._pool):
            self._decode_step(temperature, width)
        # Warm-up and capture ran real steps: put the state back (their cache writes land at
        # each row's next slot, which the next real step overwrites before anyone reads it).
        for buf, old in zip((self.tok, self.pos, self.step, self.done, self.out), saved):
            buf.copy_(old)
        self._graphs[(temperature, width)] = graph


def _cut(tokens: list[int], eos_id: int | None) -> list[int]:
    """A row's tokens up to and including its first EOS."""
    if eos_id is None or eos_id not in tokens:
        return tokens
    return tokens[:tokens.index(eos_id) + 1]
