"""The locally trained tokenizer: exact round-trips, one token per digit, left padding."""

import pytest
from transformers import AutoTokenizer

from rft.models.tokenizer import build_tokenizer
from rft.task.gsm8k import gsm8k_dir, load_jsonl_questions

GSM8K_TRAIN = str(gsm8k_dir() / "train.jsonl")


@pytest.fixture(scope="module")
def answers():
    return [q["answer"] for q in load_jsonl_questions(GSM8K_TRAIN, "train", limit=300)]


@pytest.fixture(scope="module")
def tokenizer(answers):
    return build_tokenizer(answers, vocab_size=512)


def test_gsm8k_answers_round_trip_exactly(tokenizer, answers):
    for text in answers + ["She buys 3*4=<<3*4=12>>12 pens.\n#### 12", "  two  spaces\n\n"]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text


def test_unseen_characters_round_trip_without_unk(tokenizer):
    text = "Zoë paid €5 — naïve ✓\t"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == text


def test_every_digit_is_its_own_token(tokenizer):
    tokens = tokenizer.tokenize("<<1234*56=69104>>69104")
    digit_tokens = [t for t in tokens if any(c.isdigit() for c in t)]
    assert digit_tokens == list("1234" "56" "69104" "69104")


def test_special_tokens_and_bos(tokenizer):
    assert tokenizer.pad_token == "<pad>" and tokenizer.bos_token == "<s>"
    assert tokenizer.eos_token == "</s>" and tokenizer.unk_token == "<unk>"
    ids = tokenizer("Hi")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert len(tokenizer) == 512


def test_batches_pad_on_the_left(tokenizer):
    batch = tokenizer(["a", "a much longer prompt"], padding=True)
    short = batch["input_ids"][0]
    assert short[0] == tokenizer.pad_token_id and short[-1] != tokenizer.pad_token_id
    assert batch["attention_mask"][0][0] == 0


def test_save_and_reload_keeps_behaviour(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    text = "Tom has 5+7=<<5+7=12>>12 cards.\n#### 12"
    assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert reloaded.padding_side == "left"
    assert reloaded.decode(reloaded(text)["input_ids"], skip_special_tokens=True) == text
