"""Data-parallel training: one process per GPU (torch DDP, launched by torch.distributed.run).

Every process walks the same global batches (the order is a function of the seed) and takes
its share of each, examples rank, rank + N, rank + 2N, ... Each process sums the token losses
of its share over the global batch's target tokens, so the shares add up to the one-process
loss; DDP averages gradients over the processes, so each scales its loss by N first. The
optimizer step is then the one a single process takes on the whole batch, up to the order of
float additions (tests/steps/test_data_parallel.py checks it on CPU with gloo).

    processes = n_processes(cfg, torch.cuda.device_count())   # 1: train in this process
"""

from __future__ import annotations

import os

from rft.config.train_config import TrainConfig

DATA_PARALLEL_MODES = ("auto", "on", "off")


def n_processes(cfg: TrainConfig, visible_gpus: int) -> int:
    """How many training processes: auto is one per visible GPU, off is one, on is n_processes
    (default: every visible GPU; on CPU, gloo processes)."""
    if cfg.data_parallel not in DATA_PARALLEL_MODES:
        raise ValueError(f"train_config.data_parallel is {cfg.data_parallel!r}: use one of {DATA_PARALLEL_MODES}")
    if cfg.data_parallel == "off":
        return 1
    if cfg.data_parallel == "auto":
        return max(1, visible_gpus) if cfg.n_processes is None else cfg.n_processes
    wanted = cfg.n_processes or visible_gpus
    if wanted < 2:
        raise ValueError("train_config.data_parallel is 'on' but there are fewer than 2 processes to run: "
                         "set train_config.n_processes (on CPU, gloo processes) or make several GPUs visible")
    if visible_gpus and wanted > visible_gpus:
        raise ValueError(f"train_config.n_processes is {wanted} but only {visible_gpus} GPUs are visible")
    return wanted


def share(batch: list, rank: int, world_size: int) -> list:
    """This process's examples of a global batch: every world_size-th, from its rank."""
    return batch[rank::world_size]


def launched_as_worker() -> bool:
    """True inside a process started by torch.distributed.run (it sets LOCAL_RANK)."""
    return "LOCAL_RANK" in os.environ


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) unless torch.distributed is initialised."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def start_worker() -> str:
    """Join the process group torch.distributed.run set up; the device this process trains on."""
    import torch
    import torch.distributed as dist

    local_rank = int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl")
        return f"cuda:{local_rank}"
    dist.init_process_group("gloo")
    return "cpu"


def stop_worker() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def summed(values: list[float], device) -> list[float]:
    """`values` added over every process (each process passes its own)."""
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()
