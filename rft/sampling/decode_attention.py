"""Attention for one new token per row over that row's own cached keys, and no further.

The static decoder keeps one preallocated cache of `max_len` positions per row. Masked
attention over the whole cache reads every position of every row at every step, so a row
ten tokens into its answer costs as much as one at the limit; on a small model that reading
is most of a decode step. Here each row reads its first `lengths[row]` positions only:

    out = decode_attention(q, k_cache, v_cache, lengths)   # q: (rows, heads, head_dim)
    # k_cache, v_cache: (rows, max_len, kv_heads, head_dim); lengths: (rows,) int64, >= 1

`decode_attention` runs a Triton kernel on CUDA tensors and, elsewhere, the same arithmetic
in plain torch (`reference_decode_attention`). Grouped-query attention: query head h reads
KV head h // (heads // kv_heads). The kernel works for any lengths the cache holds, so a
CUDA graph that captures it stays valid while the lengths change in place.
"""

from __future__ import annotations

import math

import torch

try:  # Triton ships with CUDA builds of torch; without it the torch path serves.
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the torch build
    triton = None

BLOCK_KEYS = 64  # keys read per inner iteration of the kernel


def reference_decode_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                               lengths: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over each row's first `lengths[row]` keys, in torch."""
    rows, heads, dim = q.shape
    kv_heads = k_cache.shape[2]
    group = heads // kv_heads
    keys = torch.arange(k_cache.shape[1], device=q.device)
    visible = keys[None, :] < lengths[:, None]  # (rows, max_len)
    qg = q.reshape(rows, kv_heads, group, dim).float()
    scores = torch.einsum("bkgd,blkd->bkgl", qg, k_cache.float()) / math.sqrt(dim)
    scores = scores.masked_fill(~visible[:, None, None, :], float("-inf"))
    out = torch.einsum("bkgl,blkd->bkgd", torch.softmax(scores, dim=-1), v_cache.float())
    return out.reshape(rows, heads, dim).to(q.dtype)


def decode_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                     lengths: torch.Tensor, use_kernel: bool | None = None) -> torch.Tensor:
    """One query token per row against its row's cache prefix; see the module docstring."""
    rows, heads, dim = q.shape
    if k_cache.shape[0] != rows or v_cache.shape != k_cache.shape or heads % k_cache.shape[2]:
        raise ValueError(f"shapes do not fit: q {tuple(q.shape)}, cache {tuple(k_cache.shape)}")
    if use_kernel is None:
        use_kernel = triton is not None and q.is_cuda
    if not use_kernel:
        return reference_decode_attention(q, k_cache, v_cache, lengths)
    kv_heads = k_cache.shape[2]
    group = heads // kv_heads
    out = torch.empty_like(q)
    _decode_kernel[(rows, kv_heads)](
        q, k_cache, v_cache, lengths, out,
        q.stride(0), q.stride(1),
        k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
        v_cache.stride(0), v_cache.stride(1), v_cache.stride(2),
        out.stride(0), out.stride(1),
        1.0 / math.sqrt(dim),
        GROUP=group, GROUP_PAD=max(16, triton.next_power_of_2(group)), DIM=dim,
        BLOCK=BLOCK_KEYS,
    )
    return out


if triton is not None:
    @triton.jit
    def _decode_kernel(Q, K, V, LENGTHS, OUT,
                       sq_row, sq_head, sk_row, sk_pos, sk_head, sv_row, sv_pos, sv_head,
                       so_row, so_head, scale,
                       GROUP: tl.constexpr, GROUP_PAD: tl.constexpr, DIM: tl.constexpr,
                       BLOCK: tl.constexpr):
        # One program per (row, KV head): the GROUP query heads that share the KV head are the
        # rows of one small matrix product per block of keys (padded to GROUP_PAD for tl.dot).
        row = tl.program_id(0)
        kv_head = tl.program_id(1)
        n_keys = tl.load(LENGTHS + row)
        g = tl.arange(0, GROUP_PAD)
        d = tl.arange(0, DIM)
        heads = kv_head * GROUP + g
        q = tl.load(Q + row * sq_row + heads[:, None] * sq_head + d[None, :],
                    mask=(g < GROUP)[:, None], other=0.0)
        best = tl.full((GROUP_PAD,), float("-inf"), tl.float32)
        total = tl.zeros((GROUP_PAD,), tl.float32)
        acc = tl.zeros((GROUP_PAD, DIM), tl.float32)
        for start in range(0, n_keys, BLOCK):
            pos = start + tl.arange(0, BLOCK)
            inside = pos < n_keys
            k = tl.load(K + row * sk_row + pos[:, None] * sk_pos + kv_head * sk_head + d[None, :],
                        mask=inside[:, None], other=0.0)
            v = tl.load(V + row * sv_row + pos[:, None] * sv_pos + kv_head * sv_head + d[None, :],
                        mask=inside[:, None], other=0.0)
            s = tl.dot(q, tl.trans(k)).to(tl.float32) * scale
            s = tl.where(inside[None, :], s, float("-inf"))
            new_best = tl.maximum(best, tl.max(s, axis=1))
            p = tl.exp(s - new_best[:, None])
            rescale = tl.exp(best - new_best)
            total = total * rescale + tl.sum(p, axis=1)
            acc = acc * rescale[:, None] + tl.dot(p.to(v.dtype), v).to(tl.float32)
            best = new_best
        result = acc / total[:, None]
        tl.store(OUT + row * so_row + heads[:, None] * so_head + d[None, :],
                 result.to(OUT.dtype.element_ty), mask=(g < GROUP)[:, None])
