"""Final answers: extraction after `####`, canonical numbers, matching, GSM8K gold files."""

import pytest

from rft.filter.answers import answers_match, canonical_number, extract_answer
from rft.home import PROJECT_ROOT
from rft.task import gsm8k
from rft.task.gsm8k import gsm8k_dir, load_jsonl_questions

GSM8K = gsm8k_dir()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("She has 3+4=<<3+4=7>>7 apples.\n#### 7", "7"),
        ("#### 72", "72"),
        ("####5", "5"),  # no space after the marker
        ("#### 70\nWait, I forgot one.\n#### 72", "72"),  # the last marker line wins
        ("#### 72\n", "72"),
        ("#### 1,200", "1200"),
        ("#### $18", "18"),
        ("#### 18.", "18"),  # end of sentence
        ("#### -$5", "-5"),
        ("#### 3.50", "3.5"),
        ("#### 5.0", "5"),
        ("#### -0", "0"),
        ("#### 007", "7"),
        ("#### .5", "0.5"),
        ("#### 1e3", "1000"),
        ("#### 2.5E-1", "0.25"),
    ],
)
def test_extracts_the_canonical_answer(text, answer):
    assert extract_answer(text) == answer


@pytest.mark.parametrize(
    "text",
    [
        "She has 7 apples.",  # no marker
        "####",
        "#### ",
        "#### 72 apples",  # anything but one number
        "#### x = 7",
        "#### 3/4",
        "#### seven",
        "#### 1 000",
        "#### 5..",
        "#### $$5",
        "#### 1,",
        "#### ٣",  # digits of other scripts are not accepted
        "#### 1e999999",  # absurdly large
        "#### 1e-999999",  # absurdly small
        "#### " + "9" * 1_000_000,
        "#### 72\n####",  # the last marker line has no number
    ],
)
def test_gives_none_without_one_plain_number(text):
    assert extract_answer(text) is None


def test_canonical_number_is_idempotent():
    for s in ["1,000.50", "-$3", "1e3", "0.00", "+7"]:
        once = canonical_number(s)
        assert once is not None and canonical_number(once) == once


def test_answers_match_by_value_of_canonical_forms():
    assert answers_match("1000", "1,000")
    assert answers_match("3.5", "3.50")
    assert not answers_match("3.5", "7/2")
    assert not answers_match("72", "72.001")
    assert not answers_match(None, "0")  # a path without an answer never matches


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_gsm8k_gold_answer_parses(split):
    questions = load_jsonl_questions(GSM8K / f"{split}.jsonl", split)
    assert len(questions) == {"train": 7473, "test": 1319}[split]
    assert questions[0]["question_id"] == f"{split}-00000"
    assert all(extract_answer(q["answer"]) is not None for q in questions)


def test_gsm8k_ships_inside_the_repository_with_its_licence():
    assert GSM8K.is_relative_to(PROJECT_ROOT)  # a bare clone has no sibling folders to read from
    assert "MIT License" in (GSM8K / "LICENSE").read_text()


def test_missing_gsm8k_is_a_loud_error(monkeypatch, tmp_path):
    monkeypatch.setattr(gsm8k, "BUNDLED_GSM8K", tmp_path)
    with pytest.raises(FileNotFoundError, match="train.jsonl, test.jsonl"):
        gsm8k.gsm8k_dir()


def test_loads_questions_with_line_ids_and_a_limit(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        '{"question": "What is 2+3?", "answer": "2+3=<<2+3=5>>5\\n#### 5"}\n'
        "\n"
        '{"question": "What is 2*3?", "answer": "#### 6"}\n'
        '{"question": "What is 2-3?", "answer": "#### -1"}\n'
    )
    questions = load_jsonl_questions(path, "tiny", limit=2)
    assert [q["question_id"] for q in questions] == ["tiny-00000", "tiny-00002"]
    assert questions[1] == {"question_id": "tiny-00002", "question": "What is 2*3?", "answer": "#### 6"}


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"question": "Q", "answer": ', "malformed JSON"),
        ('["Q", "#### 1"]', "expected a JSON object"),
        ('{"question": "Q"}', "'answer' is missing"),
        ('{"question": 3, "answer": "#### 3"}', "'question' is missing or not a string"),
        ('{"question": "Q", "answer": "It is five."}', "no number after '####'"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "Q", "answer": "#### 1"}\n' + bad_line + "\n")
    with pytest.raises(ValueError, match=message) as error:
        load_jsonl_questions(path, "broken")
    assert f"{path}:2:" in str(error.value)
