"""Mean per-token loss of a base model on held-out text (the pretrain-loss study's measurement).

    python -m rft.steps.heldout_loss --spec heldout_loss.json

Spec (JSON, rft.steps.step_specs.HeldoutLossSpec; unknown fields are errors):
    {
      "base": {"spec": {"name": "tiny-llama-a", "source": "tiny", "tiny": "tiny-llama-a"},
               "dir": "artifacts/models/tiny-llama-a/base"},   # as in rft.steps.train
      "corpus_path": "train_questions.parquet",  # columns question, answer; only to build a tiny
                                                 # base that does not exist yet (as SFT would)
      "texts": "heldout.parquet",                # column text: the held-out documents
      "max_length": 512,                         # tokens per text; longer texts are cut
      "batch_size": 16,
      "output": "heldout_loss.json",
      "seed": 0,                                 # initialises a tiny base, as in rft.steps.train
      "num_threads": null, "asset_key": null     # optional
    }

Writes `output`: loss (nats per scored token), n_tokens, n_texts, n_bytes, nats_per_byte and
n_params (rft/evaluation/token_loss.py). The base is the model before any fine-tuning: the saved tiny
base (its weights before SFT) or the hub, folder or GGUF model the name resolves to.
"""

import torch

from rft.evaluation.token_loss import mean_token_loss
from rft.steps.step_io import parse_spec, read_records, reporter, set_threads, write_json
from rft.steps.step_specs import HeldoutLossSpec
from rft.steps.train import load_base


def main(argv: list[str] | None = None) -> dict:
    spec = parse_spec(__doc__, HeldoutLossSpec, argv)
    set_threads(spec)
    with reporter(spec) as rep:
        model, tokenizer = load_base(spec.base, spec.corpus_path, spec.seed, rep.log)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        texts = [r["text"] for r in read_records(spec.texts)]
        rep.log(f"scoring {len(texts)} held-out texts (max {spec.max_length} tokens each)")
        device = "cuda" if torch.cuda.is_available() else "cpu"
        result = mean_token_loss(model.to(device).eval(), tokenizer, texts,
                                 max_length=spec.max_length, batch_size=spec.batch_size)
        result["n_params"] = sum(p.numel() for p in model.parameters())
        write_json(result, spec.output)
        rep.report(result)
        return result


if __name__ == "__main__":
    main()
