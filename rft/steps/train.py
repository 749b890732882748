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
"""

import os
from dataclasses import asdict

import torch

from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import resolve_model_spec
from rft.task.prompts import format_prompt, format_response
from rft.steps.step_io import parse_spec, read_records, reporter, set_threads, write_json
from rft.steps.step_specs import BaseModelSpec, TrainSpec
from rft.training.resume_folders import ResumeFolders
from rft.training.trainer import save_checkpoint, train_model


def load_base(base: BaseModelSpec, corpus_path: str | None, seed: int, log):
    """(model, tokenizer) of the base: the saved tiny base (created if missing), or the source."""
    spec = resolve_model_spec(base.spec)
    base_dir = base.dir
    if base_dir and os.path.exists(os.path.join(base_dir, "config.json")):
        log(f"loading base {spec.name!r} from {base_dir}")
        return load_model_and_tokenizer(base_dir, dtype=torch.float32)
    if spec.source != "tiny":
        log(f"loading base {spec.name!r} from {spec.source} {spec.path}")
        return load_model_and_tokenizer(spec, dtype=torch.float32)
    if not base_dir or not corpus_path:
        raise ValueError("a tiny base needs base.dir and corpus_path to be created")
    corpus = read_records(corpus_path)
    texts = [format_prompt(r["question"]) + format_response(r["answer"]) for r in corpus]
    log(f"creating tiny base {spec.name!r} in {base_dir} from {len(texts)} texts")
    create_base_model(spec, texts, base_dir, seed)
    # Load what was saved, so the first run starts exactly where later runs will.
    return load_model_and_tokenizer(base_dir, dtype=torch.float32)


def main(argv: list[str] | None = None) -> dict:
    spec = parse_spec(__doc__, TrainSpec, argv)
    set_threads(spec)
    with reporter(spec) as rep:
        cfg = spec.train_config
        model, tokenizer = load_base(spec.base, spec.corpus_path, spec.seed, rep.log)
        data = read_records(spec.train_data)
        examples = [(r["prompt"], r["response"]) for r in data]
        rep.log(f"training on {len(examples)} examples ({cfg.method}, {cfg.epochs} epochs)")
        resume = None
        if spec.resume_dir:
            resume = ResumeFolders.for_run(spec.resume_dir, asdict(cfg), examples, spec.base.model_dump())
        stats = train_model(model, tokenizer, examples, cfg,
                            progress=spec.progress, resume=resume, log=rep.log)
        out = spec.output_dir
        save_checkpoint(model, tokenizer, out)
        summary = {**stats.to_dict(), "output_dir": out,
                   "n_params": sum(p.numel() for p in model.parameters())}
        write_json({**summary, "train_config": cfg.__dict__, "base": spec.base.model_dump()},
                   os.path.join(out, "train_stats.json"))
        if resume is not None:
            resume.clear()  # only now: a crash while saving the model still finds the state
        rep.report(summary)
        return summary


if __name__ == "__main__":
    main()
