"""The environment a step runs in: what it needs, and no credential it does not.

    python -m rft.steps.step_environment [--hub] -- python -m rft.steps.train --spec spec.json

keeps only STEP_VARIABLES, the library settings of STEP_PREFIXES (Dagster Pipes' variables
among them) and, with `--hub`, HUB_VARIABLES, then replaces itself with the step. `StepRunner`
launches every step this way because Dagster's `PipesSubprocessClient` hands the orchestrator's
whole environment to the process it starts, and a step runs model code (and, with vLLM,
third-party kernels) that has no business seeing cloud keys or database passwords.

The rule: a step gets locale, paths, and the settings of torch, CUDA and vLLM (never a name
with TOKEN, SECRET, KEY, PASSWORD or CREDENTIAL in it); a step that downloads its base model
from the Hugging Face hub (`train` with a hub or hub-hosted GGUF base) also gets the hub token,
which gated models need. No step gets anything else: no cloud keys, no database passwords.
"""

from __future__ import annotations

import os
import sys

STEP_VARIABLES = (
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
)
# Settings of the libraries a step runs (threads, devices, allocators, vLLM), not credentials.
STEP_PREFIXES = ("CUDA_", "NCCL_", "OMP_", "MKL_", "PYTORCH_", "TORCH_", "VLLM_", "DAGSTER_PIPES_")
LOOKS_SECRET = ("TOKEN", "SECRET", "PASSWORD", "KEY", "CREDENTIAL")  # never passed by prefix
HUB_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT")


def step_environment(environ: dict[str, str], hub: bool = False) -> dict[str, str]:
    """The part of `environ` a step may see."""
    names = STEP_VARIABLES + (HUB_VARIABLES if hub else ())

    def kept(name: str) -> bool:
        if name in names:
            return True
        return name.startswith(STEP_PREFIXES) and not any(word in name for word in LOOKS_SECRET)

    return {k: v for k, v in environ.items() if kept(k)}


def reads_the_hub(spec: dict) -> bool:
    """Whether a step's spec loads its base model from the hub (only `train` has a `base`)."""
    model = (spec.get("base") or {}).get("spec")
    if isinstance(model, dict):
        source, path = model.get("source"), model.get("path") or model.get("name") or ""
        if source is not None:
            return source == "hub" or (source == "gguf" and not os.path.isdir(path))
        model = path
    # A name: tiny models have no '/', folders and local .gguf files exist.
    return isinstance(model, str) and "/" in model and not os.path.exists(model)


def launcher(python: str, hub: bool) -> list[str]:
    """The command prefix that runs a step in its own environment."""
    return [python, "-m", "rft.steps.step_environment", *(["--hub"] if hub else []), "--"]


def main(argv: list[str]) -> None:
    hub = "--hub" in argv[: argv.index("--")] if "--" in argv else False
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    if not command:
        raise SystemExit("usage: python -m rft.steps.step_environment [--hub] -- COMMAND ...")
    env = step_environment(dict(os.environ), hub)
    if not sys.stderr.isatty():  # transformers' own bars (loading, saving weights): a file gets no redraws
        env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
