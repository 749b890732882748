"""Fine-tune a base model on (prompt, response) pairs and save a plain checkpoint.

    python -m rft.steps.train --spec train.json

Spec (JSON, rft.steps.step_specs.TrainSpec; unknown fields are errors):
    {
      "base": {"spec": {"name": "tiny-llama-a", "source": "tiny", "tiny": "tiny-llama-a"},
               "dir": "artifacts/models/tiny-llama-a/base"},
      "corpus_path": "train_questions.parquet",  # columns question, answer; only used to build
                                                 # a tiny base when base.dir does not exist yet
      "train_data": "sft_data.parquet",          # columns prompt, response
      "train_config": {"epochs": 3, "learning_rate": 2e-5, ...},   # rft.training.trainer.TrainConfig
      "output_dir": "artifacts/models/tiny-llama-a/sft",
      "seed": 0,                # initialises a tiny base (training order: train_config.seed)
      "num_threads": null,      # optional, default: all cores
      "progress": true,         # optional: tqdm bar on stderr (when it is a terminal)
      "asset_key": null,        # optional, for Dagster Pipes multi-assets
      "resume_dir": "runs/train/tiny-llama-a/sft/resume"   # optional, see below
    }

base.spec is anything rft.models.resolve_model_spec accepts: a ModelSpec dict, a tiny name,
a hub id, a folder or a .gguf path. A tiny base is created once in base.dir, so SFT and every
RFT run of that model start from the same weights and tokenizer; other bases load from source.

Weights are loaded in float32 and trained with bf16 autocast on CUDA (bf16 master weights
would lose small updates). Writes the checkpoint to output_dir and, last, output_dir/train_stats.json.

With resume_dir, the step saves resume state there every train_config.checkpoint_every
optimizer steps, and a step started again with the same train config, data and base goes on
from the newest complete one (it logs which, or why it starts at step 0). Once the checkpoint
and train_stats.json are written, the state is deleted.

With several GPUs visible (train_config.data_parallel: auto), the step starts one process per
GPU through torch.distributed.run and waits for them: each trains on its share of every global
batch (rft/training/data_parallel.py), rank 0 saves the checkpoint, and this process reports it.
"""

import json
import os
import subprocess
import sys
from dataclasses import asdict

import torch

from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import resolve_model_spec
from rft.task.prompts import format_prompt, format_response
from rft.steps.step_io import Reporter, parse_spec, read_records, reporter, set_threads, write_json
from rft.steps.step_specs import BaseModelSpec, TrainSpec
from rft.training.data_parallel import launched_as_worker, n_processes, rank_and_world, start_worker, stop_worker
from rft.training.resume_folders import ResumeFolders
from rft.training.trainer import save_checkpoint, train_model


def ensure_tiny_base(base: BaseModelSpec, corpus_path: str | None, seed: int, log) -> None:
    """Create a tiny base in base.dir once (other bases load from their source)."""
    spec = resolve_model_spec(base.spec)
    if spec.source != "tiny" or (base.dir and os.path.exists(os.path.join(base.dir, "config.json"))):
        return
    if not base.dir or not corpus_path:
        raise ValueError("a tiny base needs base.dir and corpus_path to be created")
    corpus = read_records(corpus_path)
    texts = [format_prompt(r["question"]) + format_response(r["answer"]) for r in corpus]
    log(f"creating tiny base {spec.name!r} in {base.dir} from {len(texts)} texts")
    create_base_model(spec, texts, base.dir, seed)


def load_base(base: BaseModelSpec, corpus_path: str | None, seed: int, log, device: str | None = None):
    """(model, tokenizer) of the base: the saved tiny base (created if missing), or the source."""
    spec = resolve_model_spec(base.spec)
    ensure_tiny_base(base, corpus_path, seed, log)
    if base.dir and os.path.exists(os.path.join(base.dir, "config.json")):
        # A tiny base is loaded from what was saved, so the first run starts where later runs will.
        log(f"loading base {spec.name!r} from {base.dir}")
        return load_model_and_tokenizer(base.dir, device=device, dtype=torch.float32)
    log(f"loading base {spec.name!r} from {spec.source} {spec.path}")
    return load_model_and_tokenizer(spec, device=device, dtype=torch.float32)


def train(spec: TrainSpec, log, device: str | None = None, save: bool = True) -> dict:
    """Load the base, train, and (save) write the checkpoint and train_stats.json; the summary."""
    cfg = spec.train_config
    model, tokenizer = load_base(spec.base, spec.corpus_path, spec.seed, log, device)
    data = read_records(spec.train_data)
    examples = [(r["prompt"], r["response"]) for r in data]
    log(f"training on {len(examples)} examples ({cfg.method}, {cfg.epochs} epochs)")
    resume = None
    if spec.resume_dir:
        resume = ResumeFolders.for_run(spec.resume_dir, asdict(cfg), examples, spec.base.model_dump())
    stats = train_model(model, tokenizer, examples, cfg, progress=spec.progress, resume=resume, log=log)
    out = spec.output_dir
    summary = {**stats.to_dict(), "output_dir": out, "n_params": sum(p.numel() for p in model.parameters())}
    if save:
        save_checkpoint(model, tokenizer, out)
        write_json({**summary, "train_config": cfg.__dict__, "base": spec.base.model_dump()},
                   os.path.join(out, "train_stats.json"))
        if resume is not None:
            resume.clear()  # only now: a crash while saving the model still finds the state
    return summary


def train_in_processes(spec: TrainSpec, argv: list[str], processes: int, log) -> dict:
    """Start `processes` data-parallel workers of this step (torch.distributed.run), wait, and
    return rank 0's summary."""
    ensure_tiny_base(spec.base, spec.corpus_path, spec.seed, log)  # once, before the workers load it
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "rft.steps.train", *argv]
    log(f"training in {processes} data-parallel processes")
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RuntimeError(f"data-parallel training failed: torch.distributed.run exited with {result.returncode} "
                           "(the processes' own errors are above)")
    with open(os.path.join(spec.output_dir, "train_stats.json")) as f:
        stats = json.load(f)
    return {**{k: v for k, v in stats.items() if k not in ("train_config", "base")}, "n_processes": processes}


def worker(spec: TrainSpec) -> dict:
    """One data-parallel process: its share of every batch; rank 0 saves what it trained."""
    device = start_worker()
    try:
        rank, world_size = rank_and_world()
        if not spec.num_threads:  # the processes share the cores
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
        reporter_of_rank = Reporter(f"{spec.step} {rank}/{world_size}")
        return train(spec, reporter_of_rank.log, device, save=rank == 0)
    finally:
        stop_worker()


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    spec = parse_spec(__doc__, TrainSpec, argv)
    set_threads(spec)
    if launched_as_worker():
        return worker(spec)
    processes = n_processes(spec.train_config, torch.cuda.device_count())
    with reporter(spec) as rep:
        if processes > 1:
            summary = train_in_processes(spec, argv, processes, rep.log)
        else:
            summary = train(spec, rep.log)
        rep.report(summary)
        return summary


if __name__ == "__main__":
    main()
