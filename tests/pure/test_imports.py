"""Importing generations made elsewhere: every bad row is an error naming its file and line.

Pure Python on tiny files; the lakehouse side is in tests/dagster/test_import_cli.py.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from rft.ingest.generation_files import InvalidImport, read_records
from rft.ingest.generations import read_generations, read_questions
from rft.ingest.question_ownership import claim_imported_questions, questions_to_write
from rft.task.gsm8k import gsm8k_dir

GSM8K_TRAIN = gsm8k_dir() / "train.jsonl"
QUESTIONS = [
    {"question_id": "q1", "question": "What is 3*4?", "gold_answer": "12"},
    {"question_id": "q2", "question": "What is 2+5?", "answer": "2+5=<<2+5=7>>7\n#### 7"},
]
GOOD = {"model": "ext", "question_id": "q1", "sample_idx": 0, "text": "3*4=<<3*4=12>>12\n#### 12"}


def jsonl(path: Path, records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def generations(tmp_path, *records, default_model=None):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    return list(read_generations([jsonl(tmp_path / "gens.jsonl", records)], questions, default_model))


def error_of(tmp_path, *records) -> str:
    with pytest.raises(InvalidImport) as error:
        generations(tmp_path, *records)
    return str(error.value)


def test_a_good_row_comes_back_clean(tmp_path):
    (row,) = generations(tmp_path, {**GOOD, "seed": 7, "temperature": 0.7, "logprobs": [0.1]})
    assert row == {"model": "ext", "question_id": "q1", "sample_idx": 0, "text": GOOD["text"], "seed": 7,
                   "temperature": 0.7}


def test_a_question_can_be_named_by_its_text_and_the_model_by_an_option(tmp_path):
    (row,) = generations(tmp_path, {"question": "  What is 2+5? ", "sample_id": 3, "text": "#### 7"}, default_model="m")
    assert (row["model"], row["question_id"], row["sample_idx"]) == ("m", "q2", 3)


@pytest.mark.parametrize("record, problem", [
    ({**GOOD, "text": None}, "field 'text' is missing"),
    ({k: v for k, v in GOOD.items() if k != "model"}, "field 'model' is missing"),
    ({k: v for k, v in GOOD.items() if k != "sample_idx"}, "field 'sample_idx' is missing"),
    ({k: v for k, v in GOOD.items() if k != "question_id"}, "'question_id' or 'question' is missing"),
    ({**GOOD, "text": 12}, "field 'text' must be a string, got int"),
    ({**GOOD, "sample_idx": "0"}, "field 'sample_idx' must be an integer, got str"),
    ({**GOOD, "sample_idx": 1.0}, "must be an integer, got float"),
    ({**GOOD, "sample_idx": True}, "must be an integer, got bool"),
    ({**GOOD, "sample_idx": -1}, "must be between 0 and"),
    ({**GOOD, "temperature": "hot"}, "'temperature' must be a number >= 0"),
    ({**GOOD, "model": "a'; DROP TABLE x"}, "invalid model name"),
    ({**GOOD, "question_id": "q9"}, "question_id 'q9' is not in"),
    ({**GOOD, "question_id": None, "question": "What is 9*9?"}, "question 'What is 9*9?' is not in"),
    ({**GOOD, "question": "What is 2+5?"}, "question text differs"),
])
def test_a_bad_row_names_file_line_and_problem(tmp_path, record, problem):
    message = error_of(tmp_path, GOOD | {"sample_idx": 9}, record)
    assert message.startswith(f"{tmp_path / 'gens.jsonl'}:2: ")
    assert problem in message


def test_a_duplicated_key_names_both_rows(tmp_path):
    message = error_of(tmp_path, GOOD, {**GOOD, "text": "something else"})
    assert message.startswith(f"{tmp_path / 'gens.jsonl'}:2: duplicate of {tmp_path / 'gens.jsonl'}:1")


def test_duplicates_across_files_and_by_question_text_are_caught_too(tmp_path):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    first = jsonl(tmp_path / "a.jsonl", [GOOD])
    second = jsonl(tmp_path / "b.jsonl", [{**GOOD, "question_id": None, "question": "What is 3*4?"}])
    with pytest.raises(InvalidImport, match=r"b\.jsonl:1: duplicate of .*a\.jsonl:1"):
        list(read_generations([first, second], questions))


def test_broken_files_name_the_line(tmp_path):
    path = tmp_path / "gens.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n\n" + b'{"model": "ext", "text": "caf\xe9"}\n')
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:3: invalid UTF-8 at byte 30"):
        list(read_records(path))
    path.write_text(json.dumps(GOOD) + "\n" + '{"model": "ext", "text": "cut')
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:2: invalid JSON: .*truncated"):
        list(read_records(path))
    path.write_text('["not", "an", "object"]\n')
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:1: expected a JSON object, got list"):
        list(read_records(path))
    path.write_text("[" * 100_000 + "\n")
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:1: invalid JSON"):
        list(read_records(path))


def test_blank_lines_are_not_rows_but_keep_the_numbering(tmp_path):
    rows = generations(tmp_path, "", GOOD, "   ", {**GOOD, "sample_idx": 1})
    assert [r["sample_idx"] for r in rows] == [0, 1]
    assert "gens.jsonl:5:" in error_of(tmp_path, "", GOOD, "", "", {**GOOD, "sample_idx": "x"})


def test_an_empty_generations_file_is_an_error_not_a_silent_no_op(tmp_path):
    assert "no generations to import" in error_of(tmp_path, "")


def test_a_megabyte_line_is_kept_whole_and_errors_do_not_echo_it(tmp_path):
    long_text = "x" * 2_000_000 + "\n#### 12"
    (row,) = generations(tmp_path, {**GOOD, "text": long_text})
    assert row["text"] == long_text
    message = error_of(tmp_path, {**GOOD, "sample_idx": long_text})
    assert "must be an integer" in message and len(message) < 300


def test_megabyte_lines_that_are_broken_name_their_line_in_a_short_message(tmp_path):
    path = tmp_path / "gens.jsonl"
    long_text = "x" * 2_000_000
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "text": long_text})[:-10])  # cut short
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:2: invalid JSON: .*truncated") as error:
        list(read_records(path))
    assert len(str(error.value)) < 300
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"text": "' + b"x" * 1_500_000 + b'\xff"}\n')
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:2: invalid UTF-8 at byte 1500011 of the line") as error:
        list(read_records(path))
    assert len(str(error.value)) < 300


def test_text_that_json_allows_but_no_table_can_hold_is_an_error(tmp_path):
    """A lone `\\ud800` escape is valid JSON, but not Unicode: Arrow and Delta cannot store it."""
    message = error_of(tmp_path, GOOD | {"sample_idx": 9}, '{"model": "ext", "question_id": "q1", "sample_idx": 1, '
                                                         '"text": "half a pair: \\ud83d then #### 12"}')
    assert message.startswith(f"{tmp_path / 'gens.jsonl'}:2: ")
    assert "field 'text' is not valid Unicode: unpaired surrogate '\\ud83d' at character 14" in message


def test_a_field_given_twice_in_one_object_is_an_error_not_a_guess(tmp_path):
    message = error_of(tmp_path, GOOD, '{"model": "ext", "question_id": "q1", "sample_idx": 1, "text": "#### 12", '
                                       '"text": "#### 13"}')
    assert message == f"{tmp_path / 'gens.jsonl'}:2: field 'text' appears twice in one object"


def test_parquet_files_name_the_row(tmp_path):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    path = tmp_path / "gens.parquet"
    pd.DataFrame([GOOD, {**GOOD, "sample_idx": 1, "text": None}]).to_parquet(path)
    with pytest.raises(InvalidImport, match=r"gens\.parquet row 2: field 'text' is missing"):
        list(read_generations([path], questions))
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InvalidImport, match=r"broken\.parquet: unreadable Parquet"):
        list(read_generations([tmp_path / "broken.parquet"], questions))


def test_truncated_and_mistyped_parquet_files_name_the_file_and_row(tmp_path):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    good = tmp_path / "good.parquet"
    pd.DataFrame([GOOD | {"sample_idx": i} for i in range(200)]).to_parquet(good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # a copy that stopped half-way
    with pytest.raises(InvalidImport, match=r"cut\.parquet: unreadable Parquet"):
        list(read_generations([cut], questions))
    mistyped = tmp_path / "mistyped.parquet"
    pd.DataFrame([GOOD | {"sample_idx": "0"}]).to_parquet(mistyped)
    with pytest.raises(InvalidImport, match=r"mistyped\.parquet row 1: field 'sample_idx' must be an integer, got str"):
        list(read_generations([mistyped], questions))
    with pytest.raises(InvalidImport, match=r"good\.parquet row 1: duplicate of .*a\.jsonl:1"):
        list(read_generations([jsonl(tmp_path / "a.jsonl", [GOOD]), good], questions))


def test_questions_may_come_as_parquet_with_integer_ids_and_numeric_answers(tmp_path):
    path = tmp_path / "questions.parquet"
    pd.DataFrame({"question_id": [10, 11], "question": ["A?", "B?"], "gold_answer": [1.5, 1000]}).to_parquet(path)
    questions = read_questions(path)
    assert {i: q.gold_answer for i, q in questions.by_id.items()} == {"10": "1.5", "11": "1000"}
    assert questions.by_id["10"].answer_text == "#### 1.5"


def test_unknown_file_types_are_refused(tmp_path):
    with pytest.raises(InvalidImport, match="unknown file type '.csv'"):
        read_questions(tmp_path / "questions.csv")


def test_gsm8k_questions_take_the_ids_rft_run_gives_them(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(GSM8K_TRAIN.read_text().splitlines(keepends=True)[:3]))
    questions = read_questions(path)
    assert list(questions.by_id) == ["train-00000", "train-00001", "train-00002"]
    first = questions.by_id["train-00000"]
    assert first.gold_answer == "72" and first.answer_text.endswith("#### 72")
    assert first.question.startswith("Natalia sold clips")


@pytest.mark.parametrize("record, problem", [
    ({"question_id": "q", "question": "?"}, "'gold_answer' or 'answer' is missing"),
    ({"question_id": "q", "question": "?", "answer": "no marker and not a number"}, "'answer' is not a number"),
    ({"question_id": "q", "question": "?", "answer": "so\n#### seventy"}, "no number after '####'"),
    ({"question_id": "q", "question": "?", "answer": "#### 7", "gold_answer": 8}, "disagrees"),
    ({"question_id": "q", "question": 7, "gold_answer": 7}, "field 'question' must be a string"),
    ({"question_id": 1.5, "question": "?", "gold_answer": 7}, "'question_id' must be a non-empty string"),
])
def test_bad_questions_name_the_line(tmp_path, record, problem):
    with pytest.raises(InvalidImport) as error:
        read_questions(jsonl(tmp_path / "questions.jsonl", [QUESTIONS[0], record]))
    assert str(error.value).startswith(f"{tmp_path / 'questions.jsonl'}:2: ") and problem in str(error.value)


def test_duplicated_question_ids_and_ambiguous_texts_are_errors(tmp_path):
    with pytest.raises(InvalidImport, match=r"questions\.jsonl:2: question_id 'q1' is also at .*questions\.jsonl:1"):
        read_questions(jsonl(tmp_path / "questions.jsonl", [QUESTIONS[0], QUESTIONS[0]]))
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", [QUESTIONS[0], {**QUESTIONS[0], "question_id": "q3"}]))
    gens = jsonl(tmp_path / "gens.jsonl", [{**GOOD, "question_id": None, "question": "What is 3*4?"}])
    with pytest.raises(InvalidImport, match=r"gens\.jsonl:1: .* is ambiguous: .*:1, .*:2 hold it; give question_id"):
        list(read_generations([gens], questions))


def held(question_id, split, question, gold, source="task.jsonl"):
    return {"question_id": question_id, "split": split, "question": question, "gold_answer": gold, "source": source}


def test_an_import_writes_only_the_questions_the_table_lacks(tmp_path):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    existing = [held("q1", "train", "What is 3*4?", "12")]
    rows = questions_to_write(questions, ["q1", "q2"], existing, "/data/questions.jsonl")
    assert [(r["question_id"], r["split"], r["source"], r["gold_answer"]) for r in rows] == [
        ("q2", "import", "/data/questions.jsonl", "7")
    ]


def test_an_import_may_not_reuse_an_id_for_another_question_or_answer_a_test_question(tmp_path):
    questions = read_questions(jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    with pytest.raises(InvalidImport, match=r"questions\.jsonl:1: question_id 'q1' is already in rft.questions"):
        questions_to_write(questions, ["q1"], [held("q1", "train", "What is 3*5?", "15")], "s")
    with pytest.raises(InvalidImport, match="is test question t7 of the task"):
        questions_to_write(questions, ["q1"], [held("t7", "test", "What is 3*4?", "12")], "s")
    with pytest.raises(InvalidImport, match="is test question q1 of the task"):
        questions_to_write(questions, ["q1"], [held("q1", "test", "What is 3*4?", "12")], "s")


def test_the_task_takes_over_imported_copies_of_its_own_questions():
    task = [held("train-00000", "train", "Q0", "1"), held("test-00000", "test", "T0", "2")]
    imported = [held("train-00000", "import", "Q0", "1", "/a.jsonl"), held("x-1", "import", "X", "3", "/a.jsonl")]
    assert claim_imported_questions(task, imported) == ["train-00000"]
    with pytest.raises(ValueError, match="held by another question"):
        claim_imported_questions(task, [held("train-00000", "import", "Other", "1", "/a.jsonl")])
    with pytest.raises(ValueError, match="test question of the task"):
        claim_imported_questions(task, [held("test-00000", "import", "T0", "2", "/a.jsonl")])
