"""Supervised fine-tuning on (prompt, response) pairs: one plain torch loop for SFT and RFT.

The paper trains SFT and RFT with the same recipe; only the data differ. Loss counts response
tokens (and the EOS that ends them), never the prompt, so the model learns to answer, not to
repeat questions.

    from rft.training.trainer import TrainConfig, train_model, save_checkpoint
    stats = train_model(model, tokenizer, [(prompt, response), ...], TrainConfig(epochs=3))
    save_checkpoint(model, tokenizer, "checkpoints/sft")

A run killed midway resumes when given the same resume folder (rft/training/resume_folders.py):

    resume = ResumeFolders.for_run("runs/sft/resume", asdict(cfg), examples, base="tiny-llama-a")
    stats = train_model(model, tokenizer, examples, cfg, resume=resume)
    save_checkpoint(model, tokenizer, "checkpoints/sft"); resume.clear()
"""

import contextlib
import itertools
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
from tqdm.auto import tqdm
from transformers import get_scheduler

from rft.config.train_config import TrainConfig  # defined apart so configs load without torch
from rft.training.data_parallel import rank_and_world, share, summed
from rft.training.resume_folders import ResumeFolders
from rft.training.resume_state import Progress, load_state, save_state


@dataclass
class TrainStats:
    """What one training run did, for logs and asset metadata."""

    n_examples: int
    n_steps: int  # optimizer steps taken
    n_skipped_steps: int  # steps skipped for a non-finite loss or gradient
    n_tokens: int  # non-padding tokens seen by forward passes (prompt + response)
    final_loss: float  # mean loss per response token over the last optimizer step
    mean_loss_last_10pct: float  # the same averaged over the last 10% of steps (less noisy)
    seconds: float
    tokens_per_s: float
    resumed_from_step: int | None = None  # where this run went on from a resume checkpoint

    def to_dict(self) -> dict:
        return asdict(self)


def train_model(model, tokenizer, examples: list[tuple[str, str]], cfg: TrainConfig,
                progress: bool = True, resume: ResumeFolders | None = None,
                log: Callable[[str], None] = print) -> TrainStats:
    """Fine-tune `model` in place on (prompt, response) pairs; LoRA adapters are merged back.

    With `resume`, state is saved there every `cfg.checkpoint_every` optimizer steps, and a run
    whose settings match a saved state goes on from its newest checkpoint: the result is the one
    an uninterrupted run gives. Clearing the state once the model is saved is the caller's job.

    Inside a torch.distributed process group (rft/training/data_parallel.py), each process
    trains on its share of every global batch through DDP; only rank 0 saves resume state.
    """
    if not examples:
        raise ValueError("train_model needs at least one (prompt, response) example")
    torch.manual_seed(cfg.seed)
    device = next(model.parameters()).device
    rank, world_size = rank_and_world()
    if cfg.method == "lora":
        model = _wrap_lora(model, cfg)
    elif cfg.method != "full":
        raise ValueError(f"unknown training method {cfg.method!r}: use 'full' or 'lora'")
    if cfg.attn_implementation:
        model.set_attn_implementation(cfg.attn_implementation)
    if device.type == "cuda":
        torch.backends.cuda.enable_cudnn_sdp(cfg.cudnn_attention)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        if cfg.method == "lora":
            model.enable_input_require_grads()  # checkpointed LoRA needs grads at the input
    use_bf16 = cfg.bf16 if cfg.bf16 is not None else (
        device.type == "cuda" and torch.cuda.is_bf16_supported())
    if device.type == "cuda" and not use_bf16:
        # fp32 training (bf16: false) on tensor cores: TF32 matmuls keep fp32's range at a
        # fraction of full fp32's cost; fine-tuning does not need the last mantissa bits.
        torch.set_float32_matmul_precision("high")

    encoded = [_encode(tokenizer, p, r, cfg.max_length) for p, r in examples]
    steps_per_epoch = math.ceil(len(encoded) / cfg.global_batch_size)
    n_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(cfg.lr_scheduler, optimizer,
                              num_warmup_steps=round(cfg.warmup_ratio * n_steps),
                              num_training_steps=n_steps)

    run = Progress()
    if resume is not None:  # even with checkpoint_every 0: saved state of these settings is as good
        run = _resume(resume, model, optimizer, scheduler, log)
    forward = model
    if world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    model.train()
    start = time.perf_counter()
    max_skipped = max(1, math.floor(cfg.max_skipped_fraction * n_steps))
    # disable=None: no bar where stderr is no terminal (a log file), where each redraw would be a line.
    bar = tqdm(total=n_steps, initial=run.step, desc="train", disable=None if progress and rank == 0 else True,
               mininterval=1.0)
    order = itertools.islice(_batch_order([len(ids) for ids, _ in encoded], cfg, n_steps), run.step, None)
    for batch in ([encoded[i] for i in indices] for indices in order):
        n_targets = sum(len(ids) - n_prompt for ids, n_prompt in batch)
        mine = share(batch, rank, world_size)
        # DDP averages gradients over the processes and the sum is wanted: scale by their number.
        # A process with no share (a batch smaller than the processes) still joins the gradient
        # exchange, with a weight of 0.
        weight = world_size if mine else 0
        chunks = [mine[i:i + cfg.micro_batch_size] for i in range(0, len(mine), cfg.micro_batch_size)] or [batch[:1]]
        step_loss, step_tokens = 0.0, 0
        for j, chunk in enumerate(chunks):
            input_ids, attention, labels = _collate(chunk, tokenizer.pad_token_id, device)
            last = j == len(chunks) - 1
            # Gradients are exchanged once per optimizer step, after the last micro-batch.
            with forward.no_sync() if world_size > 1 and not last else contextlib.nullcontext():
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    logits = forward(input_ids=input_ids, attention_mask=attention).logits
                # Summed per-token loss over the whole global batch: micro-batch sizes don't bias it.
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), reduction="sum"
                ) / n_targets
                (loss * weight).backward()
            if mine:
                step_loss += loss.item()
                step_tokens += int(attention.sum())
        if world_size > 1:  # every process must take the same decision on a non-finite step
            step_loss, step_tokens = summed([step_loss, step_tokens], device)
        run.n_tokens += int(step_tokens)
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        if math.isfinite(step_loss) and bool(torch.isfinite(grad_norm)):
            optimizer.step()
            run.losses.append(step_loss)
        else:
            # One non-finite step would poison every weight through the optimizer. Skip it, as
            # mixed-precision trainers do; many of them mean the run itself is broken.
            run.skipped.append(run.step + 1)
            if len(run.skipped) > max_skipped:
                raise FloatingPointError(
                    f"training loss or gradient not finite at steps {run.skipped} of {n_steps} "
                    f"(bf16 autocast {'on' if use_bf16 else 'off'}); no checkpoint was saved. "
                    "Try train_config bf16: false, a lower learning_rate, or check the base model's weights."
                )
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        run.step += 1
        if resume is not None and rank == 0 and cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0 \
                and run.step < n_steps:
            _save(resume, run, start, model, optimizer, scheduler)
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.3f}",
                        tok_s=f"{run.n_tokens / (run.seconds + time.perf_counter() - start):.0f}")
    bar.close()
    seconds = run.seconds + time.perf_counter() - start

    model.eval()
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_disable()
    if cfg.method == "lora":
        model.merge_and_unload()  # folds adapters into the caller's model object, in place
    losses = run.losses
    tail = losses[-max(1, len(losses) // 10):]
    return TrainStats(n_examples=len(examples), n_steps=len(losses), n_skipped_steps=len(run.skipped),
                      n_tokens=run.n_tokens,
                      final_loss=losses[-1], mean_loss_last_10pct=sum(tail) / len(tail),
                      seconds=seconds, tokens_per_s=run.n_tokens / max(seconds, 1e-9),
                      resumed_from_step=run.resumed_from_step)


def _resume(resume: ResumeFolders, model, optimizer, scheduler, log) -> Progress:
    """The newest readable checkpoint of this run put back in place; a fresh Progress if none."""
    checkpoint = resume.latest()
    if checkpoint is None:
        log(resume.why_fresh())
    while checkpoint is not None:
        try:
            run = load_state(checkpoint, model, optimizer, scheduler)
        except Exception as exc:  # a damaged file: the one saved before it may still serve
            log(f"cannot resume from {checkpoint} ({type(exc).__name__}: {exc})")
            checkpoint = resume.older_than(checkpoint)
            continue
        log(f"resuming from {checkpoint} at step {run.step}")
        run.resumed_from_step = run.step
        return run
    return Progress()


def _save(resume: ResumeFolders, run: Progress, start: float, model, optimizer, scheduler) -> None:
    saved = replace(run, seconds=run.seconds + time.perf_counter() - start, resumed_from_step=None)
    resume.save(run.step, lambda folder: save_state(folder, model, optimizer, scheduler, saved))


def save_checkpoint(model, tokenizer, out_dir: str) -> None:
    """Save a plain (adapter-free) model and its tokenizer so any loader can read them."""
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _wrap_lora(model, cfg: TrainConfig):
    from peft import LoraConfig, get_peft_model  # only the LoRA path needs peft

    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.lora_target_modules, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def _encode(tokenizer, prompt: str, response: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of prompt + response + EOS, and how many of them belong to the prompt.

    Prompt and response are tokenised separately, as generation sees them: the prompt through
    the ordinary call (with BOS if the tokenizer adds one), the response without specials.
    """
    prompt_ids = tokenizer(prompt)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + response_ids + [tokenizer.eos_token_id])[:max_length]
    return ids, min(len(prompt_ids), len(ids) - 1)


def _batch_order(lengths: list[int], cfg: TrainConfig, n_steps: int):
    """Example indices of each global batch, of similar lengths, in an order fixed by the seed.

    A pure function of the seed and the lengths, so a resumed run skips the batches done and
    goes on with exactly the batches the uninterrupted run would have taken.

    Each epoch: shuffle, cut into pools of 16 batches, sort each pool by length, slice it into
    batches, shuffle the batches. Sorting within pools cuts padding; pooling keeps order random.
    """
    rng = random.Random(cfg.seed)
    pool = cfg.global_batch_size * 16
    emitted = 0
    while True:
        order = list(range(len(lengths)))
        rng.shuffle(order)
        batches = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start:start + pool], key=lambda i: lengths[i])
            batches += [chunk[i:i + cfg.global_batch_size]
                        for i in range(0, len(chunk), cfg.global_batch_size)]
        rng.shuffle(batches)
        for batch in batches:
            if emitted == n_steps:
                return
            emitted += 1
            yield batch


def _collate(examples, pad_id: int, device):
    """Right-padded input ids, attention mask, and labels with -100 on prompt and padding."""
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (ids, n_prompt) in enumerate(examples):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        labels[row, n_prompt:len(ids)] = torch.tensor(ids[n_prompt:])
        attention[row, :len(ids)] = 1
    return input_ids.to(device), attention.to(device), labels.to(device)
