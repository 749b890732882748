"""The real-workload bench's counting and its summary: ratios only within one run, on one card."""

from benches.sampling_real import summarize, useful


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
