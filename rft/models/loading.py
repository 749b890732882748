"""Create tiny base models and load any model (tiny checkpoint, local folder, hub id, GGUF).

A tiny base is created once and saved: SFT and every RFT run then start from the same initial
weights and tokenizer, which is what makes "RFT minus SFT" a comparison of data, not of luck.
"""

import os
import shutil
import tempfile
from collections.abc import Iterable

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from rft.models.registry import ModelSpec, resolve_model_spec
from rft.models.tokenizer import build_tokenizer


class ModelLoadError(OSError):
    """A model could not be found or read; the message names it and says why."""


def create_base_model(spec: ModelSpec, corpus_texts: Iterable[str], out_dir: str, seed: int):
    """Build tokenizer and randomly initialised weights for a tiny spec; save both to `out_dir`.

    Written to a temporary sibling folder and renamed, so a crash never leaves half a base that a
    later run would mistake for a finished one. Returns (model, tokenizer).
    """
    spec = resolve_model_spec(spec)
    tokenizer = build_tokenizer(corpus_texts, vocab_size=spec.vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **spec.tiny_config(),
    )
    torch.manual_seed(seed)  # same seed, same config => bit-identical initial weights
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id

    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".base-", dir=parent)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if os.path.exists(out_dir):  # another process won the race: keep its base
        shutil.rmtree(tmp)
        return load_model_and_tokenizer(out_dir)
    os.replace(tmp, out_dir)
    return model, tokenizer


def load_model_and_tokenizer(path_or_spec, device: str | None = None, dtype=None):
    """Load (model, tokenizer) from a checkpoint folder, a hub id, a GGUF file or a ModelSpec.

    `device` defaults to CUDA when present; `dtype` defaults to bf16 on CUDA, float32 on CPU.
    The tokenizer always has a pad token and pads on the left, ready for batched generation.
    """
    spec = _as_spec(path_or_spec)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    source, kwargs = _from_pretrained_args(spec)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except (OSError, ValueError) as err:
        where = f"{source}/{spec.gguf_file}" if spec.gguf_file else source
        reason = str(err).rstrip(".")
        raise ModelLoadError(
            f"cannot load model {spec.name!r} from {where!r} (source {spec.source!r}): {reason}. "
            "Offline machines need a local folder or GGUF file; hub ids need network or cache."
        ) from err
    if spec.gguf_file:
        _forget_gguf_quantizer(model)
    _ensure_padding(model, tokenizer)
    return model.to(device).eval(), tokenizer


def _forget_gguf_quantizer(model) -> None:
    """A GGUF file loads as plain dequantized tensors, but transformers keeps its GGUF quantizer
    on the model and then refuses `save_pretrained` ("not serializable"). The weights are
    ordinary floats, so drop the marker: a fine-tuned GGUF base then saves like any model."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "quantization_method"):
        model.quantization_method = None


def _as_spec(path_or_spec) -> ModelSpec:
    if isinstance(path_or_spec, (str, os.PathLike)) and os.path.isdir(path_or_spec):
        path = os.fspath(path_or_spec)
        return ModelSpec(name=os.path.basename(os.path.normpath(path)), source="local", path=path)
    return resolve_model_spec(path_or_spec if isinstance(path_or_spec, (dict, ModelSpec))
                              else os.fspath(path_or_spec))


def _from_pretrained_args(spec: ModelSpec) -> tuple[str, dict]:
    if spec.source == "tiny":
        if not spec.path or not os.path.isdir(spec.path):
            raise ModelLoadError(
                f"tiny model {spec.name!r} has no saved base yet: call create_base_model first "
                "and load the folder it wrote"
            )
        return spec.path, {}
    looks_local = (spec.source == "local" or os.path.isabs(spec.path)
                   or spec.path.startswith(".") or os.path.isdir(spec.path))
    if spec.source == "gguf":
        file = os.path.join(spec.path, spec.gguf_file)
        if looks_local and not os.path.isfile(file):
            raise ModelLoadError(f"GGUF file of model {spec.name!r} not found: {file}")
        return spec.path, {"gguf_file": spec.gguf_file}
    if looks_local and not os.path.isdir(spec.path):
        raise ModelLoadError(f"checkpoint folder of model {spec.name!r} not found: {spec.path}")
    return spec.path, {}


def _ensure_padding(model, tokenizer) -> None:
    """Hub tokenizers often lack a pad token; reuse EOS (masked out by attention anyway)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    tokenizer.padding_side = "left"
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
