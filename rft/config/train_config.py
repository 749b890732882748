"""Fine-tuning hyper-parameters, importable without torch (configs and the orchestrator read them)."""

from dataclasses import dataclass, field

LLAMA_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainConfig:
    """Fine-tuning hyper-parameters; defaults are the paper's (Yuan et al. 2023, section 3)."""

    epochs: float = 3  # paper: 3 epochs for SFT and for RFT
    learning_rate: float = 2e-5  # paper: 2e-5 (tiny models trained from scratch need ~1e-3)
    global_batch_size: int = 128  # paper: 128 sequences per optimizer step
    micro_batch_size: int = 16  # sequences per forward pass; the rest is gradient accumulation
    lr_scheduler: str = "cosine"  # paper: cosine; any name transformers.get_scheduler knows
    warmup_ratio: float = 0.03  # paper: 3% of the steps warm up linearly
    max_length: int = 512  # paper: 512 tokens; longer examples are cut from the right
    weight_decay: float = 0.0  # paper: none
    method: str = "full"  # "full" fine-tuning (paper) or "lora" (adapters, merged after training)
    lora_r: int = 16  # LoRA rank
    lora_alpha: int = 32  # LoRA scale numerator (scale = alpha / r)
    lora_dropout: float = 0.05  # dropout on the LoRA input
    lora_target_modules: list[str] = field(default_factory=lambda: list(LLAMA_LORA_TARGETS))
    seed: int = 42  # shuffling order and dropout
    bf16: bool | None = None  # autocast to bf16; None = on when CUDA supports it
    gradient_checkpointing: bool = False  # trade compute for memory on large models
    max_steps: int | None = None  # exact optimizer steps, overriding epochs (step-matched runs)
    max_grad_norm: float = 1.0  # gradient clipping
    # Steps with a non-finite loss or gradient are skipped; more than this share of them fails the run.
    max_skipped_fraction: float = 0.02
    attn_implementation: str | None = None  # "sdpa", "eager", ...; None keeps the model's own
    # cuDNN's fused attention backward gives NaN gradients (finite loss) for Qwen2.5 in bf16 on
    # H100/H200 (torch 2.11-2.13); SDPA's flash and memory-efficient kernels are as fast there.
    cudnn_attention: bool = False
    # Save resume state (weights, optimizer, scheduler, RNGs, data position) every this many
    # optimizer steps, when the caller gives the trainer a resume folder (the train step does);
    # 0: never. 200 steps of a 0.5B model on one H100 take minutes; a save takes seconds.
    checkpoint_every: int = 200
    # Data-parallel training (torch DDP, a process per GPU: rft/training/data_parallel.py).
    # "auto": on when several GPUs are visible; "off": one process; "on": n_processes of them
    # (on CPU, gloo processes: how the tests check it). Same global batch, same optimizer steps.
    data_parallel: str = "auto"
    n_processes: int | None = None  # None: one per visible GPU
