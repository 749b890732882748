"""Where the Python with vLLM is: the interpreter that runs sampling and evaluation with vLLM.

vLLM pins its own torch, so it usually lives in its own environment, not the orchestrator's.
The first of these wins:

1. an explicit path (the `steps` resource's `vllm_python`);
2. `RFT_VLLM_PYTHON`, e.g. `/opt/vllm/bin/python`;
3. `.venv-vllm/bin/python` in the project (what `scripts/vllm_env.sh` builds);
4. this interpreter, if it can import vLLM.

None of these: no vLLM, and backend "auto" means transformers.
"""

import os
import sys
from pathlib import Path

from rft.home import PROJECT_ROOT
from rft.sampling.requests import vllm_importable

PROJECT_VENV = PROJECT_ROOT / ".venv-vllm"


def find_vllm_python(explicit: str | None = None) -> str | None:
    """The interpreter for vLLM steps, or None where there is none (see the module docstring)."""
    for source, path in (("vllm_python", explicit), ("RFT_VLLM_PYTHON", os.environ.get("RFT_VLLM_PYTHON"))):
        if path:
            if not Path(path).is_file():
                raise FileNotFoundError(f"{source} names {path}, which is not a file: "
                                        "point it at the python of an environment with vLLM")
            return path
    project = PROJECT_VENV / "bin" / "python"
    if project.is_file() and (PROJECT_VENV / ".rft-complete").is_file():
        return str(project)
    return sys.executable if vllm_importable() else None
