"""Model plumbing: a locally trained tokenizer, tiny configs, and loading from tiny/hub/local/GGUF.

Nothing here downloads at import time and nothing imports Spark or Dagster: these modules run
on GPU machines that only have torch, transformers and peft. The names below load on first
use, so the orchestrator can read `rft.models.registry` without importing torch.
"""

from importlib import import_module

_HOMES = {
    "create_base_model": "rft.models.loading",
    "load_model_and_tokenizer": "rft.models.loading",
    "TINY_CONFIGS": "rft.models.registry",
    "ModelSpec": "rft.models.registry",
    "resolve_model_spec": "rft.models.registry",
    "build_tokenizer": "rft.models.tokenizer",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'rft.models' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
