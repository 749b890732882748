"""Two data-parallel processes (torch DDP over gloo, on CPU) train as one process does: same
optimizer steps, same losses, the same weights up to the order of float additions.

Tolerance, stated: after 6 optimizer steps the last step's loss within 1e-5 relative, every
weight within 1e-4 absolute (Adam divides by the root of the second moment, which amplifies
rounding where gradients are near zero); a curve that went astray would leave the weights apart. The second case gives every batch one example, so the second process has no share
and must still join each gradient exchange.
"""

import json
import subprocess
import sys

import pandas as pd
import pytest
from safetensors.torch import load_file

from rft.models.loading import create_base_model
from rft.models.registry import resolve_model_spec
from rft.task.generator import embedded_task
from rft.task.prompts import format_prompt, format_response

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}
MODEL = {"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    train, _ = embedded_task(n_train=24, n_test=1, seed=5)
    examples = [(format_prompt(q["question"]), format_response(q["answer"])) for q in train]
    pd.DataFrame(examples, columns=["prompt", "response"]).to_parquet(tmp / "sft_data.parquet")
    create_base_model(resolve_model_spec(MODEL), [p + r for p, r in examples], str(tmp / "base"), seed=0)
    return tmp


def train(inputs, name: str, method: str, global_batch: int, processes: int | None) -> dict:
    spec = inputs / f"{name}.json"
    parallel = {"data_parallel": "on", "n_processes": processes} if processes else {"data_parallel": "off"}
    spec.write_text(json.dumps({
        "base": {"spec": MODEL, "dir": str(inputs / "base")},
        "train_data": str(inputs / "sft_data.parquet"),
        "train_config": {"method": method, "lora_r": 4, "max_steps": 6, "learning_rate": 3e-3,
                         "global_batch_size": global_batch, "micro_batch_size": 2, "max_length": 160,
                         **parallel},
        "output_dir": str(inputs / name), "num_threads": 1, "progress": False,
    }))
    done = subprocess.run([sys.executable, "-m", "rft.steps.train", "--spec", str(spec)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("method, global_batch", [("full", 5), ("lora", 1)])
def test_two_processes_train_as_one_does(inputs, method, global_batch):
    one = train(inputs, f"{method}-one", method, global_batch, None)
    two = train(inputs, f"{method}-two", method, global_batch, 2)

    assert two["n_processes"] == 2 and "n_processes" not in one
    assert (two["n_steps"], two["n_tokens"], two["n_examples"]) == (one["n_steps"], one["n_tokens"], one["n_examples"])
    assert two["final_loss"] == pytest.approx(one["final_loss"], rel=1e-5)
    assert two["mean_loss_last_10pct"] == pytest.approx(one["mean_loss_last_10pct"], rel=1e-5)
    weights_one = load_file(str(inputs / f"{method}-one" / "model.safetensors"))
    weights_two = load_file(str(inputs / f"{method}-two" / "model.safetensors"))
    assert weights_one.keys() == weights_two.keys()
    worst = max(float((weights_one[k] - weights_two[k]).abs().max()) for k in weights_one)
    assert worst < 1e-4, worst
    changed = max(float((weights_one[k] - load_file(str(inputs / "base" / "model.safetensors"))[k]).abs().max())
                  for k in weights_one)
    assert changed > 1e-3  # the runs did train
