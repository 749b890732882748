"""Everything a training loop needs to go on from step n as if it had never stopped.

    save_state(folder, model, optimizer, scheduler, progress)      # after optimizer step n
    progress = load_state(folder, model, optimizer, scheduler)     # before step n + 1

Saved: the trainable weights (all of them for full fine-tuning, the adapters for LoRA: the
frozen base is the same base the run starts from, which the fingerprint checks), the
optimizer's moments, the LR scheduler's position, every random generator the step can touch
(torch, CUDA, Python's `random`, numpy) and the running statistics. The batch order needs no
saving: it is a pure function of the seed and the data, and the loop skips the `progress.step`
batches already done.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

STATE_FILE = "state.pt"


@dataclass
class Progress:
    """The loop's running state: how far it got and what it measured on the way."""

    step: int = 0  # optimizer steps done, taken or skipped: the next batch is batch `step` of the order
    losses: list[float] = field(default_factory=list)  # loss of each step taken
    skipped: list[int] = field(default_factory=list)  # 1-based numbers of the steps skipped
    n_tokens: int = 0
    seconds: float = 0.0  # training time spent by the processes before this one
    resumed_from_step: int | None = None


def save_state(folder: Path, model, optimizer, scheduler, progress: Progress) -> None:
    torch.save({
        "weights": {name: p.detach().cpu() for name, p in model.named_parameters() if p.requires_grad},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": _rng_states(),
        "progress": asdict(progress),
    }, folder / STATE_FILE)


def load_state(folder: Path, model, optimizer, scheduler) -> Progress:
    """Put the saved state back into freshly built `model`, `optimizer` and `scheduler`; its Progress."""
    state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if params.keys() != state["weights"].keys():
        missing, extra = params.keys() - state["weights"].keys(), state["weights"].keys() - params.keys()
        raise ValueError(f"{folder}: saved weights do not fit the model (missing {sorted(missing)[:3]}, "
                         f"unexpected {sorted(extra)[:3]})")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(state["weights"][name])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    _set_rng_states(state["rng"])
    return Progress(**state["progress"])


def _rng_states() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
        # Plain lists and numbers: the file then loads with weights_only=True (no pickled code).
        "numpy": [kind, keys.tolist(), pos, has_gauss, gauss],
    }


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    random.setstate(_tuples(states["python"]))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))


def _tuples(value):
    """random.setstate wants the tuples it gave; a round trip through a file may give lists."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value
