"""Planning requests, seeds, sharding over workers and choosing a backend: pure functions."""

import sys

import pytest
from transformers import LlamaConfig

from rft.models.registry import TINY_CONFIGS
from rft.sampling.requests import (BackendUnavailable, Request, batch_seed, checkpoint_config, choose_backend,
                                   plan_requests, sample_seed, static_engine_supports)
from rft.sampling.vllm_backend import _check_cpu_head_dim
from rft.steps.gpu_workers import shard, worker_devices
from rft.sampling.vllm_python import find_vllm_python

QUESTIONS = [{"question_id": f"q{i}", "question": f"question {i}"} for i in range(5)]


def test_request_seeding_plans_each_missing_sample_once_with_its_own_seed():
    groups = plan_requests(QUESTIONS, k=2, base_seed=7, batch_size=4, seeding="request",
                           done={("q0", 0), ("q3", 1)})
    requests = [r for g in groups for r in g]
    assert [len(g) for g in groups] == [4, 4]
    assert [(r.question_id, r.sample_idx) for r in requests] == [
        ("q1", 0), ("q2", 0), ("q3", 0), ("q4", 0), ("q0", 1), ("q1", 1), ("q2", 1), ("q4", 1)]
    assert all(r.keep and r.seed == sample_seed(7, r.question_id, r.sample_idx) for r in requests)


def test_batch_seeding_regenerates_a_batch_whole_and_keeps_only_missing_rows():
    groups = plan_requests(QUESTIONS, k=2, base_seed=7, batch_size=3, seeding="batch",
                           done={("q0", 0), ("q1", 0), ("q2", 0), ("q3", 0)})
    # Pass 0: batch 0 is done; batch 1 (q3, q4) misses q4. Pass 1: both batches.
    assert [[(r.question_id, r.sample_idx, r.keep) for r in g] for g in groups] == [
        [("q3", 0, False), ("q4", 0, True)],
        [("q0", 1, True), ("q1", 1, True), ("q2", 1, True)],
        [("q3", 1, True), ("q4", 1, True)]]
    assert [{r.seed for r in g} for g in groups] == [
        {batch_seed(7, 0, 1)}, {batch_seed(7, 1, 0)}, {batch_seed(7, 1, 1)}]


def test_a_sample_seed_depends_on_the_sample_only():
    assert sample_seed(0, "q1", 3) == sample_seed(0, "q1", 3)
    seeds = {sample_seed(base, f"q{i}", j) for base in (0, 1) for i in range(100) for j in range(20)}
    assert len(seeds) == 4000 and all(0 <= s < 2**63 for s in seeds)


def test_shards_cover_every_group_once():
    groups = [[Request(f"q{i}", "", 0, i)] for i in range(7)]
    shards = shard(groups, 3)
    assert [len(s) for s in shards] == [3, 2, 2]
    assert sorted(r.seed for s in shards for g in s for r in g) == list(range(7))
    assert shard(groups[:1], 2) == [groups[:1], []]


def test_one_worker_per_gpu_or_one_on_cpu():
    assert worker_devices(None, []) == [None]
    assert worker_devices(2, []) == [None, None]
    assert worker_devices(None, ["0", "1", "3"]) == ["0", "1", "3"]
    assert worker_devices(4, ["0", "1"]) == ["0", "1", "0", "1"]


def test_auto_takes_the_static_engine_on_a_gpu_for_the_models_it_supports():
    assert choose_backend("auto", vllm_available=True, static_engine=True, gpu=True) == "transformers"
    # a model the static engine lacks, or no GPU: vLLM where it is importable
    assert choose_backend("auto", vllm_available=True, static_engine=False, gpu=True) == "vllm"
    assert choose_backend("auto", vllm_available=True, static_engine=True, gpu=False) == "vllm"
    assert choose_backend("auto", vllm_available=False, static_engine=False, gpu=True) == "transformers"
    # asked for by name, a backend is what runs
    assert choose_backend("vllm", vllm_available=True, static_engine=True, gpu=True) == "vllm"


def test_the_static_engine_supports_llama_and_qwen2_with_plain_rotary_embeddings(tmp_path):
    assert static_engine_supports({"model_type": "llama"})
    assert static_engine_supports({"model_type": "qwen2", "rope_scaling": None, "use_sliding_window": False})
    assert not static_engine_supports({"model_type": "gpt2"})
    assert not static_engine_supports({"model_type": "llama", "rope_scaling": {"rope_type": "llama3"}})
    assert not static_engine_supports({"model_type": "qwen2", "use_sliding_window": True})
    assert checkpoint_config(str(tmp_path)) == {}  # no config.json: nothing to go on
    (tmp_path / "config.json").write_text('{"model_type": "qwen2"}')
    assert static_engine_supports(checkpoint_config(str(tmp_path)))


def test_auto_is_vllm_where_it_is_available():
    assert choose_backend("auto", vllm_available=True) == "vllm"
    assert choose_backend("auto", vllm_available=False) == "transformers"
    assert choose_backend("transformers", vllm_available=True) == "transformers"
    with pytest.raises(BackendUnavailable, match="scripts/vllm_env.sh"):
        choose_backend("vllm", vllm_available=False)
    with pytest.raises(ValueError, match="unknown sampling backend"):
        choose_backend("vlm", vllm_available=True)


def test_vllm_python_named_explicitly_must_exist(tmp_path, monkeypatch):
    assert find_vllm_python(sys.executable) == sys.executable
    monkeypatch.setenv("RFT_VLLM_PYTHON", str(tmp_path / "missing" / "python"))
    with pytest.raises(FileNotFoundError, match="RFT_VLLM_PYTHON"):
        find_vllm_python()


def test_every_tiny_model_has_heads_vllm_runs_on_cpu(tmp_path):
    for name, config in TINY_CONFIGS.items():
        assert config["hidden_size"] // config["num_attention_heads"] >= 32, name
    LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=1).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="head_dim 16 < 32"):
        _check_cpu_head_dim(str(tmp_path))
