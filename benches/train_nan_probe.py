"""Find where full fine-tuning of a model first goes non-finite (GPU probe for a NaN loss).

    python -m benches.train_nan_probe --base model.gguf --data sft_data.parquet --steps 12

Runs the first optimizer steps of rft.training.trainer's loop (same batches, same loss) and prints,
per micro-batch, the loss, whether the logits or any gradient or weight are non-finite, with
bf16 autocast on and off, with each attention implementation given, and with cuDNN's SDPA
backend on or off.
"""

import argparse
import math

import pandas as pd
import torch

from rft.models.loading import load_model_and_tokenizer
from rft.config.train_config import TrainConfig
from rft.training.trainer import _batch_order, _collate, _encode


def probe(base: str, data: str, steps: int, bf16: bool, attn: str, micro: int, cudnn: bool) -> None:
    torch.backends.cuda.enable_cudnn_sdp(cudnn)
    model, tok = load_model_and_tokenizer(base, dtype=torch.float32)
    model.set_attn_implementation(attn)
    device = model.device.type
    model.train()
    cfg = TrainConfig(micro_batch_size=micro)
    rows = pd.read_parquet(data)
    encoded = [_encode(tok, p, r, cfg.max_length) for p, r in zip(rows["prompt"], rows["response"])]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    for step, indices in enumerate(_batch_order([len(ids) for ids, _ in encoded], cfg, steps)):
        batch = [encoded[i] for i in indices]
        n_targets = sum(len(ids) - n for ids, n in batch)
        losses, bad_logits = [], 0
        for i in range(0, len(batch), micro):
            ids, att, lab = _collate(batch[i:i + micro], tok.pad_token_id, device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                logits = model(input_ids=ids, attention_mask=att).logits
            bad_logits += int(not torch.isfinite(logits[att.bool()]).all())
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(),
                                                     lab[:, 1:].flatten(), reduction="sum") / n_targets
            loss.backward()
            losses.append(loss.item())
        bad_grads = [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm).item()
        opt.step()
        opt.zero_grad(set_to_none=True)
        bad_weights = [n for n, p in model.named_parameters() if not torch.isfinite(p).all()]
        print(f"bf16={bf16} attn={attn} cudnn={cudnn} step {step}: loss {sum(losses):.4f} grad_norm {norm:.3g} "
              f"bad_logit_batches {bad_logits} bad_grads {len(bad_grads)} {bad_grads[:2]} "
              f"bad_weights {len(bad_weights)}", flush=True)
        if bad_weights or math.isnan(sum(losses)):
            break


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--micro", type=int, default=32)
    p.add_argument("--attn", nargs="+", default=["sdpa"])
    p.add_argument("--bf16", nargs="+", default=["on", "off"])
    p.add_argument("--cudnn", nargs="+", default=["off"], help="cuDNN SDPA backend on/off")
    args = p.parse_args()
    for attn in args.attn:
        for bf16 in args.bf16:
            for cudnn in args.cudnn:
                probe(args.base, args.data, args.steps, bf16 == "on", attn, args.micro, cudnn == "on")


if __name__ == "__main__":
    main()
