"""A base model's held-out loss, on a very small model: the per-token mean, however it is batched."""

import json
import math

import pandas as pd
import pytest
import torch

from rft.evaluation.token_loss import mean_token_loss
from rft.task.prompts import heldout_text
from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import resolve_model_spec
from rft.steps import heldout_loss as step

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
         "intermediate_size": 128}
TEXTS = [heldout_text("What is 2 plus 3?", "2+3=<<2+3=5>>5\n#### 5"),
         heldout_text("Tom has 12 apples and eats 4. How many are left?", "12-4=<<12-4=8>>8\n#### 8"),
         "7"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300})
    out = str(tmp_path_factory.mktemp("loss") / "base")
    create_base_model(spec, TEXTS * 20, out, seed=0)
    return out


def by_hand(model, tokenizer, text):
    """Summed next-token loss of one text and the tokens scored, without batching or padding."""
    ids = torch.tensor([tokenizer(text)["input_ids"]])
    logits = model(input_ids=ids).logits[0, :-1]
    return torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum").item(), ids.shape[1] - 1


def test_the_loss_is_the_mean_over_every_scored_token_of_every_text(base):
    model, tokenizer = load_model_and_tokenizer(base, device="cpu")
    sums = [by_hand(model, tokenizer, text) for text in TEXTS]
    expected = sum(s for s, _ in sums) / sum(n for _, n in sums)
    for batch_size in (1, 2, 3):  # right padding and the length order change nothing
        result = mean_token_loss(model, tokenizer, TEXTS, max_length=512, batch_size=batch_size)
        assert result["loss"] == pytest.approx(expected, rel=1e-5)
        assert result["n_tokens"] == sum(n for _, n in sums) and result["n_texts"] == 3
    assert result["nats_per_byte"] == pytest.approx(expected * result["n_tokens"] / result["n_bytes"])
    # An untrained model is close to guessing uniformly over its vocabulary.
    assert abs(result["loss"] - math.log(len(tokenizer))) < 1.0


def test_long_texts_are_cut_at_max_length(base):
    model, tokenizer = load_model_and_tokenizer(base, device="cpu")
    cut = mean_token_loss(model, tokenizer, TEXTS[:2], max_length=4, batch_size=2)
    assert cut["n_tokens"] == 2 * 3
    with pytest.raises(ValueError, match="nothing to score"):
        mean_token_loss(model, tokenizer, ["7"], max_length=1, batch_size=1)


def test_the_step_scores_the_saved_base_and_counts_its_parameters(base, tmp_path):
    pd.DataFrame({"text": TEXTS}).to_parquet(tmp_path / "texts.parquet")
    spec = {"base": {"spec": {"name": "tiny-llama-a", "source": "tiny", "tiny": "tiny-llama-a"}, "dir": base},
            "texts": str(tmp_path / "texts.parquet"), "max_length": 512, "batch_size": 2,
            "output": str(tmp_path / "loss.json")}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = step.main(["--spec", str(tmp_path / "spec.json")])
    assert json.loads((tmp_path / "loss.json").read_text()) == result
    model, _ = load_model_and_tokenizer(base, device="cpu")
    assert result["n_params"] == sum(p.numel() for p in model.parameters())
