"""The steps' typed specs: a good spec round-trips through its JSON file, a bad one names the field."""

import json

import pytest

from rft.config.train_config import TrainConfig
from rft.steps.step_specs import (
    BaseModelSpec, EvaluateSpec, EvaluationTarget, HeldoutLossSpec, SampleSpec, SpecError, TrainSpec, read_spec,
    write_spec,
)

TINY = {"name": "tiny-llama-a", "source": "tiny", "tiny": "tiny-llama-a"}


def written(tmp_path, raw: dict) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(raw))
    return str(path)


@pytest.mark.parametrize("spec", [
    TrainSpec(base=BaseModelSpec(spec=TINY, dir="models/base"), corpus_path="corpus.parquet",
              train_data="train.parquet", train_config=TrainConfig(epochs=2, learning_rate=3e-3),
              output_dir="models/sft", seed=1),
    SampleSpec(checkpoint="models/sft", questions="q.parquet", k=4, temperature=0.8, max_new_tokens=64,
               backend="transformers", output="paths.parquet", vllm_options={"dtype": "float32"}),
    EvaluateSpec(checkpoints=[EvaluationTarget(checkpoint="models/sft", output="sft.parquet")],
                 questions="test.parquet", max_new_tokens=64, maj_k=4),
    HeldoutLossSpec(base=BaseModelSpec(spec="HuggingFaceTB/SmolLM2-135M"), texts="heldout.parquet",
                    max_length=512, output="loss.json", num_threads=2),
])
def test_a_spec_comes_back_from_its_file_as_written(spec, tmp_path):
    write_spec(spec, tmp_path / "spec.json")
    assert read_spec(type(spec), tmp_path / "spec.json") == spec


def test_the_json_the_benches_and_older_assets_wrote_still_reads(tmp_path):
    """Hand-written JSON with only the fields a caller cares about: the rest takes the defaults."""
    spec = read_spec(TrainSpec, written(tmp_path, {
        "base": {"spec": "tiny-llama-a"}, "train_data": "t.parquet", "output_dir": "out",
        "train_config": {"micro_batch_size": 8}, "progress": False}))
    assert spec.train_config == TrainConfig(micro_batch_size=8) and spec.base.dir is None and spec.seed == 0
    one = read_spec(EvaluateSpec, written(tmp_path, {
        "checkpoint": "sft", "questions": "test.parquet", "output": "eval.parquet", "max_new_tokens": 16}))
    assert one.targets == [EvaluationTarget(checkpoint="sft", output="eval.parquet")]


def test_an_unknown_field_is_named_with_the_step_and_the_file(tmp_path):
    path = written(tmp_path, {"checkpoint": "sft", "questions": "q.parquet", "k": 4, "temperature": 0.7,
                              "max_new_tokens": 8, "output": "o.parquet", "tempertaure": 0.7})
    with pytest.raises(SpecError, match=rf"^sample spec {path}: tempertaure: unknown field$"):
        read_spec(SampleSpec, path)


def test_bad_values_missing_fields_and_nested_typos_are_each_named(tmp_path):
    path = written(tmp_path, {"base": {"spec": "tiny-llama-a", "folder": "x"}, "train_data": "t.parquet",
                              "train_config": {"epochs": "three", "lr": 1e-3}})
    with pytest.raises(SpecError) as error:
        read_spec(TrainSpec, path)
    message = str(error.value)
    assert message.startswith(f"train spec {path}: ")
    for problem in ("base.folder: unknown field", "train_config.epochs: Input should be a valid number",
                    "train_config.lr: unknown field", "output_dir: missing"):
        assert problem in message


def test_impossible_values_are_refused():
    with pytest.raises(ValueError, match="k"):
        SampleSpec(checkpoint="c", questions="q", k=0, temperature=0.7, max_new_tokens=8, output="o")
    with pytest.raises(ValueError, match="not both"):
        EvaluateSpec(checkpoint="c", output="o", checkpoints=[EvaluationTarget(checkpoint="c", output="o")],
                     questions="q", max_new_tokens=8)


def test_a_file_that_is_not_json_says_so(tmp_path):
    (tmp_path / "spec.json").write_text("{'k': 4}")
    with pytest.raises(SpecError, match="evaluate spec .*spec.json: not valid JSON"):
        read_spec(EvaluateSpec, tmp_path / "spec.json")
    with pytest.raises(SpecError, match="no such file"):
        read_spec(EvaluateSpec, tmp_path / "missing.json")
