"""GSM8K-format question files: one JSON object per line with `question` and `answer`."""

import json
from pathlib import Path

from rft.filter.answers import extract_answer
from rft.home import PROJECT_ROOT

REQUIRED_FIELDS = ("question", "answer")
# GSM8K (MIT licence, data/gsm8k/LICENSE) ships inside the repository so a bare clone runs alone.
BUNDLED_GSM8K = PROJECT_ROOT / "data" / "gsm8k"


def gsm8k_dir() -> Path:
    """The folder holding the bundled `train.jsonl` and `test.jsonl`; an error if either is missing."""
    missing = [name for name in ("train.jsonl", "test.jsonl") if not (BUNDLED_GSM8K / name).is_file()]
    if missing:
        raise FileNotFoundError(f"GSM8K is missing from {BUNDLED_GSM8K} ({', '.join(missing)}): "
                                "it ships with the repository; restore it with `git checkout -- data/gsm8k`")
    return BUNDLED_GSM8K


def load_jsonl_questions(path: str | Path, split: str, limit: int | None = None) -> list[dict]:
    """The questions of a GSM8K-format JSONL file as `{question_id, question, answer}` dicts.

    `question_id` is `{split}-{i:05d}` with i the 0-based line index, so ids stay stable when
    a file is read with a `limit`. Blank lines are skipped (their index is still counted).
    Raises ValueError naming the file and 1-based line number for malformed JSON, a missing or
    non-string field, or a gold answer without a number after `####`.
    """
    questions: list[dict] = []
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if limit is not None and len(questions) >= limit:
                break
            if not line.strip():
                continue
            questions.append(_parse_line(line, f"{path}:{i + 1}", f"{split}-{i:05d}"))
    return questions


def _parse_line(line: str, where: str, question_id: str) -> dict:
    """One question from one line; `where` is `file:line` for error messages."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: malformed JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for field in REQUIRED_FIELDS:
        if not isinstance(record.get(field), str):
            raise ValueError(f"{where}: field {field!r} is missing or not a string")
    if extract_answer(record["answer"]) is None:
        raise ValueError(f"{where}: gold answer has no number after '####'")
    return {"question_id": question_id, "question": record["question"], "answer": record["answer"]}
