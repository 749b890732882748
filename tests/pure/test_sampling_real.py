"""The real-workload bench's counting and its summary: ratios only within one run, on one card."""

from benches.sampling_real import breakdown, ideal_share_of_fixed, summarize, useful


def row(engine, config, tokens_per_s, run="r1", model="smol", device="H100"):
    return {"engine": engine, "config": config, "tokens_per_s": tokens_per_s, "run": run, "model": model,
            "device": device, "paths_per_s": tokens_per_s / 100, "peak_gpu_gb": 10.0}


def test_useful_tokens_stop_at_the_first_eos_and_a_path_without_one_is_cut():
    assert useful([5, 6, 2, 7], eos=2, limit=4) == (3, False)
    assert useful([5, 6, 7, 8], eos=2, limit=4) == (4, True)
    assert useful([5, 6, 7, 8], eos=None, limit=4) == (4, True)  # EOS ignored: every path runs to the limit


def test_the_summary_takes_each_engines_best_and_the_ratios_the_issue_asks():
    rows = [row("generate", "b1024", 10_000), row("vllm", "defaults", 30_000), row("vllm", "large-batch", 33_000),
            row("static_v1", "rows=4096", 55_000), row("static", "rows=1024", 90_000),
            row("static", "rows=4096", 120_000), row("static_fixed", "rows=4096", 150_000)]
    run = summarize(rows)["runs"][0]
    assert run["ours_tokens_per_s"] == 120_000 and run["ours_config"] == "rows=4096"
    assert run["ours_vs_vllm_defaults"] == 4.0  # against the defaults, not vLLM's best
    assert run["vllm_best_tokens_per_s"] == 33_000 and run["vllm_best_config"] == "large-batch"
    assert run["ours_share_of_fixed_length"] == 0.8
    assert run["ours_vs_before"] == 2.18 and run["ours_vs_baseline"] == 12.0


def test_runs_models_and_cards_are_never_mixed_in_one_ratio():
    rows = [row("static", "rows=4096", 100_000), row("vllm", "defaults", 50_000, run="r2"),
            row("vllm", "defaults", 20_000, device="H200")]
    runs = summarize(rows)["runs"]
    assert len(runs) == 3
    assert runs[0]["ours_tokens_per_s"] == 100_000 and runs[0]["ours_vs_vllm_defaults"] is None
    assert all(r["ours_tokens_per_s"] is None for r in runs[1:])


def profiled(tokens_per_s, useful_tokens, seconds, prefill_seconds, decode_steps):
    return {**row("static", "rows=4", tokens_per_s), "useful_tokens": useful_tokens, "seconds": seconds,
            "profile": {"decode_steps": decode_steps, "prefill_calls": 2, "prefill_seconds": prefill_seconds}}


def test_the_profile_says_how_much_time_went_to_prefill_and_to_empty_slots():
    ours = profiled(60.0, useful_tokens=30, seconds=0.5, prefill_seconds=0.1, decode_steps={"4": 8, "2": 2})
    parts = breakdown(ours)
    assert parts["slot_steps"] == 36 and parts["useful_share_of_slot_steps"] == round(30 / 36, 3)
    assert parts["prefill_share"] == 0.2 and parts["decode_seconds"] == 0.4
    assert breakdown(row("vllm", "defaults", 1.0)) is None  # engines without a profile


def test_the_ideal_share_counts_the_fixed_runs_prefill_and_only_useful_slot_steps():
    # fixed length: 40 tokens in 0.5 s, 0.1 s of it prefill -> 0.01 s per slot-step;
    # 30 useful tokens at that cost after the same prefill: 0.4 s, 75 tokens/s = 0.9375 of 80
    fixed = profiled(80.0, useful_tokens=40, seconds=0.5, prefill_seconds=0.1, decode_steps={"4": 10})
    ours = profiled(60.0, useful_tokens=30, seconds=0.5, prefill_seconds=0.15, decode_steps={"4": 9})
    assert ideal_share_of_fixed(ours, fixed) == 0.938
    assert ideal_share_of_fixed(ours, None) is None
