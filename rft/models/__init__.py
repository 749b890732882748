"""Model plumbing: names, specs and the catalog; a locally trained tokenizer, tiny configs, and
loading from tiny/hub/local/GGUF.

Nothing here downloads at import time. `model_names`, `registry` and `catalog` import no
torch, so the orchestrator reads them cheaply; `loading` and `tokenizer` do the heavy work.
May import `rft.config` and below.
"""
