"""The static-cache decoder computes what `model.generate` computes, and each row's samples
depend on its own seed only."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from rft.sampling.static_engine import StaticDecoder, UnsupportedModel, pick_tokens, uniforms

M32 = 0xFFFFFFFF


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def reference_uniform(seed: int, step: int) -> float:
    """The same hash in plain Python integers."""
    h = fmix32(seed & M32)
    h = fmix32(h ^ ((seed >> 32) & M32))
    h = fmix32(h ^ (step & M32))
    return ((h >> 8) + 0.5) / 2**24


def tiny(model_type: str, seed: int = 0):
    torch.manual_seed(seed)
    common = dict(vocab_size=97, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0)
    if model_type == "llama":
        return LlamaForCausalLM(LlamaConfig(**common, tie_word_embeddings=True)).eval()
    return Qwen2ForCausalLM(Qwen2Config(**common, rope_theta=1e6)).eval()


def prompts_of(lengths, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(3, 97, (n,), generator=g).tolist() for n in lengths]


def test_uniforms_match_the_plain_python_hash():
    seeds = [0, 1, 12345, 2**40 + 7, 2**63 - 1]
    got = uniforms(torch.tensor(seeds), torch.tensor([9])).tolist()
    assert got == pytest.approx([reference_uniform(s, 9) for s in seeds], abs=1e-7)
    assert all(0 < u < 1 for u in got)


def test_uniforms_look_uniform():
    u = uniforms(torch.arange(20000), torch.tensor([3]))
    assert abs(u.mean().item() - 0.5) < 0.01
    assert abs((u < 0.1).float().mean().item() - 0.1) < 0.01


def test_inverse_cdf_sampling_follows_the_softmax():
    logits = torch.log(torch.tensor([[0.1, 0.6, 0.3]])).repeat(30000, 1)
    picks = pick_tokens(logits, torch.arange(30000), torch.tensor([0]), temperature=1.0)
    freq = torch.bincount(picks, minlength=3).float() / 30000
    assert torch.allclose(freq, torch.tensor([0.1, 0.6, 0.3]), atol=0.015)
    assert pick_tokens(logits[:2], torch.arange(2), torch.tensor([0]), 0.0).tolist() == [1, 1]


@pytest.mark.parametrize("model_type", ["llama", "qwen2"])
def test_greedy_matches_model_generate(model_type):
    model = tiny(model_type)
    prompts = prompts_of([5, 9, 3, 12])
    decoder = StaticDecoder(model, max_batch=4, max_len=40)
    ours = decoder.generate(prompts, seeds=[0] * 4, temperature=0.0, max_new_tokens=20,
                            eos_id=None)
    for prompt, tokens in zip(prompts, ours):
        ids = torch.tensor([prompt])
        ref = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=20,
                             do_sample=False, eos_token_id=None, pad_token_id=0)
        assert tokens == ref[0, len(prompt):].tolist()


def test_a_rows_samples_depend_on_its_seed_not_on_its_batch():
    model = tiny("llama")
    prompts = prompts_of([4, 7, 6, 10, 3, 8])
    seeds = [11, 12, 13, 14, 15, 16]
    together = StaticDecoder(model, max_batch=6, max_len=40).generate(
        prompts, seeds, temperature=0.9, max_new_tokens=16, eos_id=None)
    in_twos = StaticDecoder(model, max_batch=2, max_len=40).generate(
        prompts, seeds, temperature=0.9, max_new_tokens=16, eos_id=None)
    alone = [StaticDecoder(model, max_batch=1, max_len=40).generate(
        [p], [s], temperature=0.9, max_new_tokens=16, eos_id=None)[0]
        for p, s in zip(prompts, seeds)]
    assert together == in_twos == alone
    other_seeds = StaticDecoder(model, max_batch=6, max_len=40).generate(
        prompts, [s + 100 for s in seeds], temperature=0.9, max_new_tokens=16, eos_id=None)
    assert other_seeds != together
    same_prompt = StaticDecoder(model, max_batch=3, max_len=40).generate(
        [prompts[0]] * 3, [1, 2, 3], temperature=0.9, max_new_tokens=16, eos_id=None)
    assert len({tuple(t) for t in same_prompt}) == 3


def test_rows_stop_after_eos_and_keep_it():
    model = tiny("llama")
    decoder = StaticDecoder(model, max_batch=2, max_len=64)
    greedy = decoder.generate(prompts_of([4, 6]), [0, 0], 0.0, 40, eos_id=None)
    eos = greedy[0][3]  # call whatever the model emits fourth "EOS"
    cut = decoder.generate(prompts_of([4, 6]), [0, 0], 0.0, 40, eos_id=eos)
    assert cut[0] == greedy[0][:greedy[0].index(eos) + 1]
    assert cut[0][-1] == eos


def test_too_long_and_unsupported_models_are_refused():
    decoder = StaticDecoder(tiny("llama"), max_batch=2, max_len=16)
    with pytest.raises(ValueError, match="exceeds max_len"):
        decoder.generate(prompts_of([10]), [0], 0.7, 10, eos_id=None)
    from transformers import GPT2Config, GPT2LMHeadModel
    with pytest.raises(UnsupportedModel, match="gpt2"):
        StaticDecoder(GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2)), 2, 16)


def test_finished_rows_take_the_next_request_and_texts_do_not_change():
    """Seven requests through two rows: rows refill as requests end, and every request gets
    the tokens it gets alone (its prompt and seed decide them, not its row or neighbours)."""
    model = tiny("llama")
    prompts = prompts_of([4, 7, 6, 10, 3, 8, 5])
    seeds = [21, 22, 23, 24, 25, 26, 27]
    greedy = StaticDecoder(model, max_batch=1, max_len=64).generate(
        prompts[:1], [0], 0.0, 30, eos_id=None)[0]
    eos = greedy[5]  # a token the model emits often enough to end some requests early
    two_rows = StaticDecoder(model, max_batch=2, max_len=64, min_rows=1)
    together = two_rows.generate(prompts, seeds, temperature=0.9, max_new_tokens=30, eos_id=eos)
    alone = [StaticDecoder(model, max_batch=1, max_len=64).generate(
        [p], [s], temperature=0.9, max_new_tokens=30, eos_id=eos)[0] for p, s in zip(prompts, seeds)]
    assert together == alone
    lengths = sorted(len(t) for t in together)
    assert lengths[0] < 30 and lengths[-1] <= 30  # some ended early, so rows were refilled


def test_a_request_that_hits_the_limit_is_marked_as_cut():
    model = tiny("llama")
    decoder = StaticDecoder(model, max_batch=3, max_len=64, min_rows=1)
    greedy = decoder.generate(prompts_of([4, 6, 5]), [0, 0, 0], 0.0, 12, eos_id=None)
    assert decoder.last_finish_reasons == ["length"] * 3
    assert all(len(t) == 12 for t in greedy)
    eos = greedy[0][2]
    cut = decoder.generate(prompts_of([4, 6, 5]), [0, 0, 0], 0.0, 12, eos_id=eos)
    assert cut[0] == greedy[0][:greedy[0].index(eos) + 1] and decoder.last_finish_reasons[0] == "eos"
    for tokens, reason in zip(cut, decoder.last_finish_reasons):
        assert (reason == "eos") == (tokens[-1] == eos)
        assert reason == "eos" or len(tokens) == 12


def test_packing_live_rows_into_a_smaller_batch_changes_no_tokens():
    """With no request waiting, live rows move to the front rows and decode in a half batch."""
    model = tiny("qwen2")
    prompts = prompts_of([3, 9, 5, 7, 4, 6, 8, 2], seed=4)
    seeds = list(range(100, 108))
    eos = StaticDecoder(model, max_batch=1, max_len=80).generate(
        prompts[:1], [0], 0.0, 40, eos_id=None)[0][7]
    packed = StaticDecoder(model, max_batch=8, max_len=80, min_rows=1).generate(
        prompts, seeds, 0.8, 40, eos_id=eos)
    unpacked = StaticDecoder(model, max_batch=8, max_len=80, min_rows=8).generate(
        prompts, seeds, 0.8, 40, eos_id=eos)
    assert packed == unpacked


def test_each_call_leaves_a_profile_of_where_its_steps_went():
    model = tiny("llama")
    prompts = prompts_of([5, 9, 3, 7, 4])
    decoder = StaticDecoder(model, max_batch=2, max_len=64, min_rows=1)
    decoder.generate(prompts, list(range(5)), temperature=1.0, max_new_tokens=12, eos_id=None)
    profile = decoder.last_profile
    assert profile["prefill_rows"] == 5 and profile["prefill_tokens"] == sum(map(len, prompts))
    assert profile["prefill_calls"] >= 3  # two rows: the five requests arrive in at least three waves
    # Every step is counted at the width it ran: at least 12 steps per request, shared by 2 rows.
    assert set(profile["decode_steps"]) <= {2, 1} and sum(profile["decode_steps"].values()) >= 12 * 5 // 2
    assert profile["checks"] * 8 == sum(profile["decode_steps"].values())
