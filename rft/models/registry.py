"""Which models the pipeline knows, and how a name becomes a `ModelSpec`.

A model is one of:
- "tiny":  a Llama-style config from `TINY_CONFIGS`, initialised from scratch with a tokenizer
           trained locally (CPU demos and tests; nothing is downloaded);
- "local": a folder written by `save_pretrained`;
- "gguf":  a GGUF file (transformers dequantises it), in a local folder or a hub repository;
- "hub":   a Hugging Face hub id such as "HuggingFaceTB/SmolLM2-135M".
"""

import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

# Llama-style configs for 2 CPU cores. head_dim = hidden / heads is kept at 32 or more because
# vLLM's CPU attention kernels reject smaller heads. Vocabulary size comes from the tokenizer.
TINY_CONFIGS: dict[str, dict[str, Any]] = {
    # ~0.85M parameters with a 512-token vocabulary.
    "tiny-llama-a": dict(
        hidden_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=384,
    ),
    # ~1.3M parameters: wider and shallower, so the two models make different mistakes.
    "tiny-llama-b": dict(
        hidden_size=192,
        num_hidden_layers=3,
        num_attention_heads=6,
        num_key_value_heads=2,
        intermediate_size=512,
    ),
}

# Shared by every tiny config.
TINY_COMMON: dict[str, Any] = dict(
    max_position_embeddings=512,  # the paper's max length
    tie_word_embeddings=True,  # with a 512 vocabulary the output matrix would be wasted params
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
)

# "org/name" as the hub spells repository ids.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class ModelSpec:
    """Where a model's weights come from."""

    name: str  # short label used in table rows and folder names
    source: Literal["tiny", "hub", "local", "gguf"]
    path: str | None = None  # hub id or folder; for "gguf" the folder or hub id holding the file
    gguf_file: str | None = None  # file name inside `path` (source "gguf" only)
    tiny: str | None = None  # key into TINY_CONFIGS (source "tiny" only)
    # Tiny only: config fields replacing TINY_CONFIGS[tiny]'s (tests use even smaller models).
    overrides: dict[str, Any] = field(default_factory=dict)
    vocab_size: int = 512  # tiny only: size of the locally trained BPE tokenizer

    def tiny_config(self) -> dict[str, Any]:
        """LlamaConfig keyword arguments (without vocabulary) for a tiny spec."""
        if self.source != "tiny" or self.tiny not in TINY_CONFIGS:
            raise ValueError(f"model {self.name!r} is not a tiny model (known: {known_tiny()})")
        return {**TINY_COMMON, **TINY_CONFIGS[self.tiny], **self.overrides}


def known_tiny() -> str:
    return ", ".join(sorted(TINY_CONFIGS))


def resolve_model_spec(name_or_dict: str | dict | ModelSpec) -> ModelSpec:
    """Turn a tiny name, a folder, a `*.gguf` path, a hub id or a spec dict into a `ModelSpec`.

    A bare word (no "/") must be a tiny name: that turns typos such as "tiny-lama-a" into an
    error here instead of a failed download later.
    """
    if isinstance(name_or_dict, ModelSpec):
        return name_or_dict
    if isinstance(name_or_dict, dict):
        return _from_dict(name_or_dict)
    name = str(name_or_dict)
    if name in TINY_CONFIGS:
        return ModelSpec(name=name, source="tiny", tiny=name)
    if name.endswith(".gguf"):
        folder, file = os.path.split(name)
        return ModelSpec(name=_label(file), source="gguf", path=folder or ".", gguf_file=file)
    if os.path.isdir(name):
        return ModelSpec(name=_label(name), source="local", path=name)
    if _HUB_ID.match(name):
        return ModelSpec(name=_label(name), source="hub", path=name)
    raise ValueError(
        f"unknown model {name!r}: not a tiny model ({known_tiny()}), not an existing folder, "
        "not a .gguf file and not a hub id of the form 'org/name'"
    )


def _from_dict(d: dict) -> ModelSpec:
    if "source" not in d:  # {"name": "tiny-llama-a"} or {"name": "org/model"}
        spec = resolve_model_spec(d["name"])
        extra = {k: v for k, v in d.items() if k != "name"}
        return ModelSpec(**{**spec.__dict__, **extra})
    spec = ModelSpec(**d)
    if spec.source == "tiny":
        spec.tiny = spec.tiny or spec.name
        if spec.tiny not in TINY_CONFIGS:
            raise ValueError(f"unknown tiny model {spec.tiny!r} (known: {known_tiny()})")
    elif not spec.path:
        raise ValueError(f"model {spec.name!r} with source {spec.source!r} needs a path")
    if spec.source == "gguf" and not spec.gguf_file:
        raise ValueError(f"model {spec.name!r} with source 'gguf' needs gguf_file")
    return spec


def _label(path: str) -> str:
    """A short name from a path or id: the last component without extension."""
    base = os.path.basename(os.path.normpath(path))
    return base[: -len(".gguf")] if base.endswith(".gguf") else base
