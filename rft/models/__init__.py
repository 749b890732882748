"""Model plumbing: a locally trained tokenizer, tiny configs, and loading from tiny/hub/local/GGUF.

Nothing here downloads at import time and nothing imports Spark or Dagster: these modules run
on GPU machines that only have torch, transformers and peft.
"""

from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import TINY_CONFIGS, ModelSpec, resolve_model_spec
from rft.models.tokenizer import build_tokenizer

__all__ = [
    "TINY_CONFIGS",
    "ModelSpec",
    "build_tokenizer",
    "create_base_model",
    "load_model_and_tokenizer",
    "resolve_model_spec",
]
