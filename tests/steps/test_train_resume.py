"""A train step killed with `kill -9` midway goes on from its last resume checkpoint when run again,
and ends with exactly the weights of a run that was never interrupted (CPU, same seed, same threads).
"""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from rft.models.loading import create_base_model
from rft.models.registry import resolve_model_spec
from rft.task.generator import embedded_task
from rft.task.prompts import format_prompt, format_response

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}
STEPS, EVERY = 24, 4


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A saved tiny base and SFT data, as the orchestrator leaves them for the step."""
    tmp = tmp_path_factory.mktemp("resume")
    train, _ = embedded_task(n_train=48, n_test=1, seed=3)
    examples = [(format_prompt(q["question"]), format_response(q["answer"])) for q in train]
    pd.DataFrame(examples, columns=["prompt", "response"]).to_parquet(tmp / "sft_data.parquet")
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300})
    create_base_model(spec, [p + r for p, r in examples], str(tmp / "base"), seed=0)
    return tmp


def spec_file(inputs, name: str, method: str, resume_dir=None) -> str:
    path = inputs / f"{name}.json"
    path.write_text(json.dumps({
        "base": {"spec": {"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300},
                 "dir": str(inputs / "base")},
        "train_data": str(inputs / "sft_data.parquet"),
        "train_config": {"method": method, "lora_r": 4, "max_steps": STEPS, "checkpoint_every": EVERY,
                         "learning_rate": 3e-3, "global_batch_size": 4, "micro_batch_size": 2,
                         "max_length": 160},
        "output_dir": str(inputs / name),
        "resume_dir": resume_dir and str(resume_dir),
        "num_threads": 2, "progress": False,
    }))
    return str(path)


def train(spec: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "rft.steps.train", "--spec", spec],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def kill_after_a_resume_checkpoint(spec: str, resume_dir) -> int:
    """Start the step, `kill -9` it once a complete checkpoint past the first is on disk; that step."""
    proc = subprocess.Popen([sys.executable, "-m", "rft.steps.train", "--spec", spec],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            markers = sorted(resume_dir.glob("*/step-*/COMPLETE"))
            if markers and int(markers[-1].parent.name.removeprefix("step-")) >= 2 * EVERY:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        proc.kill()
        returncode = proc.wait()
    assert returncode == -signal.SIGKILL, "the step ended before it could be killed midway"
    step = max(int(m.parent.name.removeprefix("step-")) for m in resume_dir.glob("*/step-*/COMPLETE"))
    assert step < STEPS
    return step


@pytest.mark.parametrize("method", ["full", "lora"])
def test_a_killed_train_step_resumes_and_ends_with_the_uninterrupted_weights(inputs, method):
    train(spec_file(inputs, f"{method}-clean", method))
    resume_dir = inputs / f"{method}-resume"
    spec = spec_file(inputs, f"{method}-killed", method, resume_dir)

    killed_at = kill_after_a_resume_checkpoint(spec, resume_dir)
    assert not (inputs / f"{method}-killed" / "train_stats.json").exists()
    rerun = train(spec)

    assert f"at step {killed_at}" in rerun.stderr
    clean = load_file(inputs / f"{method}-clean" / "model.safetensors")
    resumed = load_file(inputs / f"{method}-killed" / "model.safetensors")
    assert clean.keys() == resumed.keys()
    assert all(torch.equal(clean[name], resumed[name]) for name in clean)  # bitwise
    stats = {run: json.loads((inputs / f"{method}-{run}" / "train_stats.json").read_text())
             for run in ("clean", "killed")}
    same = ("n_steps", "n_skipped_steps", "n_tokens", "final_loss", "mean_loss_last_10pct")
    assert [stats["killed"][k] for k in same] == [stats["clean"][k] for k in same]
    assert stats["killed"]["resumed_from_step"] == killed_at and stats["clean"]["resumed_from_step"] is None
    assert not resume_dir.exists()  # done and saved: the state is gone
