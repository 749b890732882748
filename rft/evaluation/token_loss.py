"""A language model's mean per-token loss on held-out text: the pre-training-loss axis of the paper.

    text = heldout_text(question, gold_solution)     # rft.task.prompts: plain text, no prompt template
    mean_token_loss(model, tokenizer, [text, ...], max_length=512, batch_size=16)
    # {"loss": 2.31, "n_tokens": 61234, "n_texts": 1319, "n_bytes": 250112, "nats_per_byte": 0.565}

The loss is the cross-entropy, in nats, of every token given the ones before it (a text's
first token, the BOS where the tokenizer adds one, has no context and is not scored), averaged
over all scored tokens of all texts, so long texts weigh more, as in pre-training. Per-token
losses of models with different tokenizers are not on one scale; `nats_per_byte` (total nats
over the texts' UTF-8 bytes) compares those.
"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def mean_token_loss(model, tokenizer, texts: list[str], *, max_length: int, batch_size: int) -> dict:
    """Mean next-token loss over every scored token of `texts` (cut at max_length tokens each)."""
    if not texts:
        raise ValueError("mean_token_loss needs at least one text")
    device = next(model.parameters()).device
    encoded = [tokenizer(text)["input_ids"][:max_length] for text in texts]
    # Longest first: one batch holds texts of similar length, so little is padding.
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    total, n_tokens = 0.0, 0
    for start in range(0, len(order), batch_size):
        batch = [encoded[i] for i in order[start:start + batch_size]]
        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):  # right padding: position ids count from each text's start
            input_ids[row, :len(ids)] = torch.tensor(ids)
            attention[row, :len(ids)] = 1
        input_ids, attention = input_ids.to(device), attention.to(device)
        logits = model(input_ids=input_ids, attention_mask=attention).logits.float()
        targets = input_ids[:, 1:].masked_fill(attention[:, 1:] == 0, -100)
        total += torch.nn.functional.cross_entropy(
            logits[:, :-1].flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum").item()
        n_tokens += int((targets != -100).sum())
    if n_tokens == 0:
        raise ValueError("no text is longer than one token: nothing to score")
    n_bytes = sum(len(text.encode("utf-8")) for text in texts)
    loss = total / n_tokens
    if not math.isfinite(loss):
        raise FloatingPointError(f"held-out loss is not finite ({loss}): the model's weights may be broken")
    return {"loss": loss, "n_tokens": n_tokens, "n_texts": len(texts), "n_bytes": n_bytes,
            "nats_per_byte": total / n_bytes}
