"""What the project exposes: servers on loopback only, steps without the orchestrator's secrets,
and logs without secrets or model outputs.
"""

import json
import logging
import os
import subprocess
import sys

import dagster as dg
import pandas as pd
import psutil
import pytest

from rft.home import PROJECT_ROOT
from rft.models.loading import create_base_model
from rft.models.registry import resolve_model_spec
from rft.task.prompts import format_prompt, format_response
from rft.steps.step_environment import reads_the_hub, step_environment
from rft.steps.step_specs import SampleSpec
from rft.task.generator import embedded_task
from rft_dagster.cli import main
from rft_dagster.resources import StepRunner
from spark_jobs.server import read_state, spark_conf

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
SECRETS = {"AWS_SECRET_ACCESS_KEY": "fake-aws-secret-4f1c", "HF_TOKEN": "hf_fakeToken9d2e",
           "DATABASE_PASSWORD": "fake-db-password-77", "TORCH_SECRET_KEY": "fake-torch-key-12"}


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket a process and its children listen on."""
    process = psutil.Process(pid)
    return {(c.laddr.ip, c.laddr.port) for p in [process, *process.children(recursive=True)]
            for c in p.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


# -- servers ---------------------------------------------------------------------------------


def test_the_spark_server_listens_on_loopback_only(spark_resource, lake):
    state = read_state(spark_resource.server_config())
    addresses = listening_addresses(state["pid"])  # Connect's port, the driver's RPC and block manager
    assert (state["port"] in {port for _, port in addresses}) and addresses
    assert {ip for ip, _ in addresses} <= LOOPBACK, addresses
    assert spark_conf(spark_resource.server_config())["spark.connect.grpc.binding.address"] == "127.0.0.1"


def test_rft_ui_runs_dagster_dev_on_loopback_unless_told_otherwise(tmp_path, monkeypatch):
    for name in ("RFT_HOME", "RFT_CONFIG", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "unset-by-test")  # restored afterwards: `rft` sets them
        monkeypatch.delenv(name)
    commands = []
    monkeypatch.setattr(os, "chdir", lambda path: None)
    monkeypatch.setattr(os, "execv", lambda path, argv: commands.append(argv))  # instead of becoming dagster dev
    assert main(["--home", str(tmp_path), "ui"]) == 0
    assert main(["--home", str(tmp_path), "ui", "--host", "0.0.0.0", "--port", "3001"]) == 0
    default, configured = commands
    assert default[default.index("dev"):] == ["dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1",
                                              "-p", "3000"]
    assert configured[configured.index("-h") + 1] == "0.0.0.0"


# -- step environments -------------------------------------------------------------------------


def test_a_step_environment_keeps_what_steps_need_and_no_credentials():
    parent = {"PATH": "/usr/bin", "PYTHONPATH": "/src", "CUDA_VISIBLE_DEVICES": "0", "VLLM_USE_V1": "1",
              "DAGSTER_PIPES_CONTEXT": "ctx", "RFT_HOME": "/home/rft", "SPARK_HOME": "/spark", **SECRETS}
    assert step_environment(parent) == {"PATH": "/usr/bin", "PYTHONPATH": "/src", "CUDA_VISIBLE_DEVICES": "0",
                                        "VLLM_USE_V1": "1", "DAGSTER_PIPES_CONTEXT": "ctx"}
    assert step_environment(parent, hub=True)["HF_TOKEN"] == SECRETS["HF_TOKEN"]
    assert "AWS_SECRET_ACCESS_KEY" not in step_environment(parent, hub=True)


@pytest.mark.parametrize("base, hub", [
    ({"spec": {"name": "smol", "source": "hub", "path": "HuggingFaceTB/SmolLM2-135M"}}, True),
    ({"spec": {"name": "q", "source": "gguf", "path": "org/repo-GGUF", "gguf_file": "q.gguf"}}, True),
    ({"spec": {"name": "q", "source": "gguf", "path": str(PROJECT_ROOT), "gguf_file": "q.gguf"}}, False),
    ({"spec": {"name": "mine", "source": "local", "path": "/models/mine"}}, False),
    ({"spec": {"name": "tiny-llama-a", "source": "tiny", "tiny": "tiny-llama-a"}}, False),
    ({"spec": {"name": "tiny-llama-a", "overrides": {}}}, False),
    ({"spec": "HuggingFaceTB/SmolLM2-135M"}, True),
    (None, False),  # sample and evaluate load local checkpoints
])
def test_only_a_step_that_downloads_from_the_hub_gets_the_hub_token(base, hub):
    assert reads_the_hub({"base": base} if base else {"checkpoint": "/ckpt"}) is hub


def test_the_launcher_hands_the_step_the_filtered_environment(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    show_env = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
    for hub in (False, True):
        launcher = [sys.executable, "-m", "rft.steps.step_environment", *(["--hub"] if hub else []), "--"]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        seen = json.loads(subprocess.run(launcher + show_env, capture_output=True, text=True, env=env,
                                         check=True, timeout=60).stdout)
        assert seen["PYTHONPATH"] == str(PROJECT_ROOT)
        assert {k for k in SECRETS if k in seen} == ({"HF_TOKEN"} if hub else set())


@pytest.fixture(scope="module")
def sampled_through_dagster(tmp_path_factory):
    """A real sample step run by Dagster with fake secrets in the orchestrator's environment.

    The step's interpreter is a shell script that records its environment, then runs Python.
    """
    tmp = tmp_path_factory.mktemp("exposure")
    train, _ = embedded_task(n_train=4, n_test=1, seed=3)
    pd.DataFrame(train).to_parquet(tmp / "questions.parquet")
    texts = [format_prompt(q["question"]) + format_response(q["answer"]) for q in train]
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": {"hidden_size": 64, "num_hidden_layers": 1,
                                                                     "num_attention_heads": 2, "num_key_value_heads": 1,
                                                                     "intermediate_size": 64}, "vocab_size": 300})
    create_base_model(spec, texts, str(tmp / "model"), seed=0)
    probe = tmp / "python"
    probe.write_text(f'#!/bin/sh\nif [ "$2" = rft.steps.step_environment ]; then role=launcher; else role=step; fi\n'
                     f'/usr/bin/env -0 > "{tmp}/env-$role"\nexec "{sys.executable}" "$@"\n')
    probe.chmod(0o755)
    step_spec = SampleSpec(checkpoint=str(tmp / "model"), questions=str(tmp / "questions.parquet"), k=2,
                           temperature=1.0, max_new_tokens=24, base_seed=0, batch_size=8,
                           backend="transformers", output=str(tmp / "paths.parquet"), progress=False)

    @dg.asset
    def probe_sample(context: dg.AssetExecutionContext, steps: StepRunner) -> dg.MaterializeResult:
        reports = steps.run(context, step_spec, tmp / "spec.json")
        return dg.MaterializeResult(metadata={"rows": reports[-1]["n_rows"]})

    with pytest.MonkeyPatch.context() as env:
        for name, value in SECRETS.items():
            env.setenv(name, value)
        env.setenv("PYTHONPATH", str(PROJECT_ROOT))
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([probe_sample], instance=instance,
                                resources={"steps": StepRunner(python=str(probe), num_threads=1)})
    assert result.success
    logs = [entry for entry in instance.all_logs(result.run_id)]

    def environment(role):
        return dict(item.split("=", 1) for item in (tmp / f"env-{role}").read_text().split("\0") if "=" in item)

    yield {"logs": logs, "texts": pd.read_parquet(tmp / "paths.parquet")["text"].tolist(),
           "launcher_env": environment("launcher"), "step_env": environment("step")}
    instance.dispose()


def test_a_step_run_by_dagster_sees_no_secret_of_the_orchestrator(sampled_through_dagster):
    launcher, step = sampled_through_dagster["launcher_env"], sampled_through_dagster["step_env"]
    assert set(SECRETS) <= set(launcher)  # Dagster did hand them on: the launcher is what stops them
    assert not set(SECRETS) & set(step)
    assert {"PATH", "PYTHONPATH", "DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES"} <= set(step)


def test_logs_hold_neither_secrets_nor_model_outputs(sampled_through_dagster):
    texts = [t.strip() for t in sampled_through_dagster["texts"] if len(t.strip()) >= 12]
    assert len(texts) >= 4  # the check below has outputs to look for
    entries = sampled_through_dagster["logs"]  # every level, so info and above a fortiori
    assert any(entry.level >= logging.INFO for entry in entries)
    logged = "\n".join(f"{entry.user_message}\n{entry.dagster_event!r}" for entry in entries)
    assert "ASSET_MATERIALIZATION" in logged and "rows" in logged  # events and their metadata are included
    assert not [value for value in SECRETS.values() if value in logged]
    assert not [text for text in texts if text in logged]
