"""Model specs: names, folders, GGUF files and hub ids; tiny bases; clear errors."""

import pytest
import torch
from huggingface_hub import constants as hub_constants

from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import TINY_CONFIGS, ModelSpec, resolve_model_spec
from rft.models.loading import ModelLoadError

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}


def test_tiny_configs_suit_cpu_and_vllm():
    assert len(TINY_CONFIGS) >= 2
    for config in TINY_CONFIGS.values():
        assert config["hidden_size"] // config["num_attention_heads"] >= 32


def test_names_resolve_to_sources(tmp_path):
    assert resolve_model_spec("tiny-llama-a") == ModelSpec("tiny-llama-a", "tiny",
                                                            tiny="tiny-llama-a")
    assert resolve_model_spec(str(tmp_path)).source == "local"
    gguf = resolve_model_spec("/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert (gguf.source, gguf.path, gguf.gguf_file) == (
        "gguf", "/models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    hub = resolve_model_spec("HuggingFaceTB/SmolLM2-135M")
    assert (hub.source, hub.path, hub.name) == ("hub", "HuggingFaceTB/SmolLM2-135M",
                                                "SmolLM2-135M")


def test_spec_dicts_take_overrides():
    spec = resolve_model_spec({"name": "tiny-llama-b", "overrides": SMALL, "vocab_size": 300})
    assert spec.source == "tiny" and spec.tiny_config()["hidden_size"] == 64
    assert spec.tiny_config()["max_position_embeddings"] == 512


def test_unknown_names_say_what_is_known():
    with pytest.raises(ValueError, match="tiny-lama-a.*tiny-llama-a, tiny-llama-b"):
        resolve_model_spec("tiny-lama-a")


def test_missing_models_fail_with_their_name(tmp_path, monkeypatch):
    with pytest.raises(ModelLoadError, match="nothere.gguf"):
        load_model_and_tokenizer(str(tmp_path / "nothere.gguf"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # no 60 s of retries
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model"):
        load_model_and_tokenizer("no-such-org/no-such-model")


def test_same_seed_gives_the_same_base(tmp_path):
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 280})
    corpus = ["Ava has 3+4=<<3+4=7>>7 apples.\n#### 7"] * 20
    first, _ = create_base_model(spec, corpus, str(tmp_path / "one"), seed=3)
    create_base_model(spec, corpus, str(tmp_path / "two"), seed=3)
    second, tokenizer = load_model_and_tokenizer(str(tmp_path / "two"))
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    assert tokenizer.padding_side == "left" and tokenizer.pad_token == "<pad>"
