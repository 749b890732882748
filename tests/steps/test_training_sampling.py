"""Training, sampling and evaluation on a very small model (64 wide, 2 layers) on CPU."""

import copy

import pytest
import torch

from rft.evaluation.eval_loop import evaluate_greedy, evaluate_majority
from rft.evaluation.scoring import accuracy_summary, majority_vote
from rft.evaluation.significance import wilson_interval
from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import resolve_model_spec
from rft.sampling.requests import sample_seed
from rft.sampling.sampler import sample_paths
from rft.sampling.transformers_backend import make_backend
from rft.task.generator import embedded_task
from rft.task.prompts import format_prompt, format_response
from rft.training.trainer import TrainConfig, save_checkpoint, train_model

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}
FAST = {"learning_rate": 3e-3, "global_batch_size": 8, "micro_batch_size": 4, "max_length": 256}


@pytest.fixture(scope="module")
def task():
    return embedded_task(n_train=48, n_test=8, seed=0)


@pytest.fixture(scope="module")
def examples(task):
    train, _ = task
    return [(format_prompt(q["question"]), format_response(q["answer"])) for q in train]


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, examples):
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 320})
    out = str(tmp_path_factory.mktemp("models") / "base")
    create_base_model(spec, [p + r for p, r in examples], out, seed=0)
    return out


@pytest.fixture(scope="module")
def trained(base_dir, examples):
    model, tokenizer = load_model_and_tokenizer(base_dir)
    train_model(model, tokenizer, examples, TrainConfig(epochs=2, **FAST), progress=False)
    return model, tokenizer


def test_more_steps_give_lower_loss(base_dir, examples):
    losses = []
    for steps in (1, 12):
        model, tokenizer = load_model_and_tokenizer(base_dir)
        stats = train_model(model, tokenizer, examples, TrainConfig(max_steps=steps, **FAST),
                            progress=False)
        assert stats.n_steps == steps and stats.n_tokens > 0 and stats.tokens_per_s > 0
        losses.append(stats.final_loss)
    assert losses[1] < losses[0] - 1.0


def test_the_same_seed_trains_the_same_weights_and_another_seed_others(base_dir, examples):
    """The demo is deterministic on CPU: one seed, one set of weights; seeds are real replicates."""
    def weights(seed):
        model, tokenizer = load_model_and_tokenizer(base_dir)
        stats = train_model(model, tokenizer, examples, TrainConfig(max_steps=4, seed=seed, **FAST), progress=False)
        assert stats.n_steps == 4  # a step-matched control takes exactly the steps it is given
        return {name: p.detach().clone() for name, p in model.state_dict().items()}

    first, again, other = weights(42), weights(42), weights(43)
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_a_step_with_a_non_finite_loss_is_skipped_not_taken(base_dir, examples):
    model, tokenizer = load_model_and_tokenizer(base_dir)
    calls = []

    def nan_on_first_forward(module, args, output):  # a bad batch, as bf16 overflow gives one
        calls.append(1)
        return output * float("nan") if len(calls) == 1 else output

    model.lm_head.register_forward_hook(nan_on_first_forward)
    stats = train_model(model, tokenizer, examples, TrainConfig(max_steps=6, max_skipped_fraction=0.2, **FAST),
                        progress=False)
    assert (stats.n_steps, stats.n_skipped_steps) == (5, 1)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_run_that_keeps_going_non_finite_fails_and_saves_nothing(base_dir, examples):
    model, tokenizer = load_model_and_tokenizer(base_dir)
    with torch.no_grad():
        model.get_input_embeddings().weight[:, 0] = float("inf")  # what a broken base gives
    before = model.lm_head.weight.detach().clone()
    with pytest.raises(FloatingPointError, match=r"not finite at steps \[1, 2\] of 3"):
        train_model(model, tokenizer, examples, TrainConfig(max_steps=3, **FAST), progress=False)
    assert torch.equal(model.lm_head.weight, before)  # no step was taken


def test_lora_merges_back_into_a_plain_model(base_dir, examples, tmp_path):
    model, tokenizer = load_model_and_tokenizer(base_dir)
    before = copy.deepcopy(model.state_dict())
    cfg = TrainConfig(method="lora", max_steps=4, lora_r=4, **FAST)
    train_model(model, tokenizer, examples, cfg, progress=False)
    assert not any("lora" in name for name, _ in model.named_parameters())
    assert model.state_dict().keys() == before.keys()
    assert not torch.equal(model.state_dict()["model.layers.0.self_attn.q_proj.weight"],
                           before["model.layers.0.self_attn.q_proj.weight"])
    save_checkpoint(model, tokenizer, str(tmp_path / "lora"))
    assert not (tmp_path / "lora" / "adapter_config.json").exists()
    reloaded, _ = load_model_and_tokenizer(str(tmp_path / "lora"))
    assert torch.equal(reloaded.state_dict()["model.norm.weight"],
                       model.state_dict()["model.norm.weight"])


def test_same_seed_same_paths_and_resume_keeps_texts(trained, task):
    model, tokenizer = trained
    backend = make_backend("transformers", model, tokenizer, batch_size=3)
    questions = task[1]  # 8 questions: batches of 3, 3, 2
    run = {"k": 2, "temperature": 1.0, "max_new_tokens": 24, "base_seed": 7, "progress": False}
    first = list(sample_paths(backend, questions, **run))
    again = list(sample_paths(backend, questions, **run))
    assert [r["text"] for r in first] == [r["text"] for r in again]
    assert len(first) == 16 and {r["sample_idx"] for r in first} == {0, 1}
    assert first[0]["seed"] == sample_seed(7, questions[0]["question_id"], 0)
    # A "killed" run finished pass 0 and the first batch of pass 1: the rest come out the same.
    done = {(r["question_id"], r["sample_idx"]) for r in first[:11]}
    resumed = list(sample_paths(backend, questions, done=done, **run))
    assert resumed == first[11:]
    other = list(sample_paths(backend, questions, **{**run, "base_seed": 8}))
    assert [r["text"] for r in other] != [r["text"] for r in first]


def test_sample_seeds_differ_across_questions_samples_and_base_seeds():
    seeds = {sample_seed(base, f"q{i}", j) for base in (0, 1) for i in range(50) for j in range(50)}
    assert len(seeds) == 5000
    assert all(0 <= s < 2**63 for s in seeds)


def test_a_paths_text_depends_on_its_seed_not_its_batch_or_engine(trained, task):
    model, tokenizer = trained
    questions = task[1]
    run = {"k": 2, "temperature": 1.0, "max_new_tokens": 24, "base_seed": 3, "progress": False}
    texts = {}
    for engine in ("static", "generate"):
        for batch_size in (3, 16):
            backend = make_backend("transformers", model, tokenizer, batch_size=batch_size,
                                   engine=engine)
            assert backend.engine == engine
            texts[engine, batch_size] = [r["text"] for r in sample_paths(backend, questions, **run)]
    assert len(set(map(tuple, texts.values()))) == 1
    assert len(set(texts["static", 3])) > 1


def test_every_path_says_whether_eos_ended_it_or_the_limit_cut_it(trained, task):
    model, tokenizer = trained
    for engine in ("static", "generate"):
        backend = make_backend("transformers", model, tokenizer, batch_size=4, engine=engine)
        rows = list(sample_paths(backend, task[1], k=2, temperature=1.0, max_new_tokens=6,
                                 base_seed=5, progress=False))
        assert {r["finish_reason"] for r in rows} <= {"eos", "length"}
        for r in rows:
            assert r["finish_reason"] == "eos" or r["n_new_tokens"] == 6
        assert any(r["finish_reason"] == "length" for r in rows)  # 6 tokens cut most answers


def test_greedy_and_majority_evaluation_rows(trained, task):
    model, tokenizer = trained
    backend = make_backend("transformers", model, tokenizer, batch_size=4)
    questions = [{**q, "gold_answer": q["answer"].split("####")[-1]} for q in task[1]]
    greedy = evaluate_greedy(backend, questions, max_new_tokens=24)
    assert [r["question_id"] for r in greedy] == [q["question_id"] for q in questions]
    assert set(greedy[0]) == {"question_id", "text", "answer", "is_correct", "answer_reference",
                              "is_correct_reference"}
    assert greedy == evaluate_greedy(backend, questions, max_new_tokens=24)  # greedy is greedy
    majority = evaluate_majority(backend, questions[:2], k=3, temperature=1.0,
                                 max_new_tokens=24, seed=0)
    assert all(0 <= r["votes"] <= 3 for r in majority)
    summary = accuracy_summary(greedy)
    assert summary["n"] == 8 and summary["ci_low"] <= summary["accuracy"] <= summary["ci_high"]


def test_majority_vote_breaks_ties_by_smallest_answer():
    assert majority_vote(["12", "9", None, "9", "12"]) == ("12", 2)
    assert majority_vote(["7", None, "7", "5"]) == ("7", 2)
    assert majority_vote([None, None]) == (None, 0)


def test_wilson_interval_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(80, 100) == pytest.approx((0.7112, 0.8666), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_always_holds_the_estimate_even_at_0_and_100_percent():
    for n in range(1, 2000):
        for correct in (0, 1, n // 2, n - 1, n):
            low, high = wilson_interval(correct, n)
            assert 0.0 <= low <= correct / n <= high <= 1.0, (correct, n)


def test_vllm_loads_its_own_model(trained):
    with pytest.raises(ValueError, match="load_backend"):
        make_backend("vllm", *trained)
