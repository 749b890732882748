"""Attention over each row's own cache prefix: the torch arithmetic against SDPA, and the Triton
kernel against the torch arithmetic (in Triton's interpreter, so it runs without a GPU)."""

import subprocess
import sys
import textwrap

import torch
import torch.nn.functional as F

from rft.sampling.decode_attention import reference_decode_attention


def test_each_row_attends_to_its_first_lengths_keys_only():
    torch.manual_seed(0)
    rows, max_len, kv_heads, group, dim = 4, 20, 2, 3, 8
    q = torch.randn(rows, kv_heads * group, dim)
    k, v = torch.randn(2, rows, max_len, kv_heads, dim)
    lengths = torch.tensor([1, 7, 19, 20])
    out = reference_decode_attention(q, k, v, lengths)
    for r, n in enumerate(lengths.tolist()):
        keys = k[r, :n].transpose(0, 1).repeat_interleave(group, dim=0)  # (heads, n, dim)
        values = v[r, :n].transpose(0, 1).repeat_interleave(group, dim=0)
        expected = F.scaled_dot_product_attention(q[r][:, None], keys, values)[:, 0]
        assert torch.allclose(out[r], expected, atol=1e-5)
    # what lies past a row's length never matters
    k2, v2 = k.clone(), v.clone()
    k2[1, 7:], v2[1, 7:] = 1e4, -1e4
    assert torch.equal(reference_decode_attention(q, k2, v2, lengths)[1], out[1])


KERNEL_CHECK = textwrap.dedent("""
    import torch
    from rft.sampling.decode_attention import decode_attention, reference_decode_attention
    torch.manual_seed(1)
    for rows, max_len, kv_heads, group, dim in [(5, 70, 2, 3, 16), (3, 130, 3, 3, 32), (2, 16, 1, 1, 16)]:
        q = torch.randn(rows, kv_heads * group, dim)
        k, v = torch.randn(2, rows, max_len, kv_heads, dim)
        lengths = torch.randint(1, max_len + 1, (rows,))
        lengths[0] = max_len
        got = decode_attention(q, k, v, lengths, use_kernel=True)
        want = reference_decode_attention(q, k, v, lengths)
        assert torch.allclose(got, want, atol=1e-4), (rows, (got - want).abs().max())
    print("kernel agrees")
""")


def test_the_triton_kernel_computes_the_same_attention():
    result = subprocess.run([sys.executable, "-c", KERNEL_CHECK], capture_output=True, text=True,
                            env={**__import__("os").environ, "TRITON_INTERPRET": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "kernel agrees" in result.stdout
