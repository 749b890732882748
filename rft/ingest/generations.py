"""Bring your own generations: questions and generated paths made elsewhere, checked before any write.

    questions = read_questions("questions.jsonl")
    for generation in read_generations(["generations.jsonl"], questions):
        ...  # {model, question_id, sample_idx, text, seed, temperature}, all checked

Questions file (JSONL or Parquet), one question per row:
- `question` (string) and a gold answer: `gold_answer` (a number, or a string holding one) or
  `answer` (GSM8K's solution ending in `#### n`, or a bare number); both given must agree;
- `question_id` (string or integer), optional. Without it the id is `<file stem>-<i:05d>`, i the
  0-based line (row) index: the ids `rft run` gives the lines of a GSM8K file, so `train.jsonl`
  line 1 is `train-00000` and generations for GSM8K's train questions join the task's own.

Generations file(s), one generated path per row:
- `model` (a model name; `default_model` for rows without one), `sample_idx` (or `sample_id`,
  an integer 0 <= i < 2**31), `text` (string, kept as is however long; the verifier rejects
  over-long texts with a reason), and the question as `question_id` or `question` (its exact
  text, ignoring surrounding whitespace) from the questions file;
- `seed` (integer) and `temperature` (number >= 0), optional. Other fields are ignored.

Every problem is an `InvalidImport` naming the file and row: a missing field, a wrong type, a
string that is not valid Unicode (an unpaired `\ud800` escape), an unknown or ambiguous
question, a (model, question, sample) key seen before. No row is skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from rft.filter.answers import ANSWER_MARKER, canonical_number, extract_answer
from rft.ingest.generation_files import InvalidImport, Row, read_records, show
from rft.models.model_names import MODEL_NAME

IMPORT_BACKEND = "import"  # `backend` of sampled_paths rows written by `rft import`
IMPORT_SPLIT = "import"  # `split` of questions only imported generations answer (not the task's)
MAX_SAMPLE_IDX = 2**31 - 1  # sample_idx is an INT column
GENERATION_FIELDS = ("model", "question_id", "sample_idx", "text", "seed", "temperature")


@dataclass(frozen=True)
class ImportedQuestion:
    question_id: str
    question: str
    answer_text: str  # the gold solution, or `#### <gold>` when only the answer was given
    gold_answer: str  # canonical number
    row: Row


@dataclass
class QuestionFile:
    path: str
    by_id: dict[str, ImportedQuestion]
    _by_text: dict[str, list[str]] | None = field(default=None, repr=False)

    def id_of_text(self, text: str, row: Row) -> str:
        if self._by_text is None:
            self._by_text = {}
            for q in self.by_id.values():
                self._by_text.setdefault(q.question.strip(), []).append(q.question_id)
        ids = self._by_text.get(text.strip(), [])
        if not ids:
            raise InvalidImport(row, f"question {show(text)} is not in {self.path}")
        if len(ids) > 1:
            rows = ", ".join(str(self.by_id[i].row) for i in ids[:3])
            raise InvalidImport(row, f"question {show(text)} is ambiguous: {rows} hold it; give question_id instead")
        return ids[0]


# -- field checks: each returns the clean value or raises naming the row and the field --------


def _missing(row: Row, *names: str) -> InvalidImport:
    return InvalidImport(row, f"field {' or '.join(map(repr, names))} is missing")


def _wrong_type(row: Row, name: str, expected: str, value) -> InvalidImport:
    return InvalidImport(row, f"field {name!r} must be {expected}, got {type(value).__name__} {show(value)}")


def _string(record: dict, name: str, row: Row) -> str:
    value = record.get(name)
    if value is None:
        raise _missing(row, name)
    if not isinstance(value, str):
        raise _wrong_type(row, name, "a string", value)
    return _unicode(value, name, row)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(value: str, name: str, row: Row) -> str:
    # JSON's `\ud800` escape decodes to half of a UTF-16 pair, which no UTF-8 table can store.
    bad = _SURROGATE.search(value)
    if bad:
        raise InvalidImport(row, f"field {name!r} is not valid Unicode: unpaired surrogate {bad.group()!a} "
                                 f"at character {bad.start() + 1}")
    return value


def _integer(value, name: str, row: Row, low: int, high: int) -> int:
    # bool is an int in Python, and a float is not an index: both are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(row, name, "an integer", value)
    if not low <= value <= high:
        raise InvalidImport(row, f"field {name!r} must be between {low} and {high}, got {show(value)}")
    return value


def _identifier(value, name: str, row: Row) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise _wrong_type(row, name, "a non-empty string or an integer", value)
    return _unicode(value, name, row)


def _number(value, name: str, row: Row) -> str:
    """A gold answer as a canonical number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _wrong_type(row, name, "a number", value)
    canonical = canonical_number(repr(value) if isinstance(value, float) else str(value))
    if canonical is None:
        raise InvalidImport(row, f"field {name!r} is not a number: {show(value)}")
    return canonical


# -- questions ---------------------------------------------------------------------------------


def _gold(record: dict, row: Row) -> tuple[str, str]:
    """(answer_text, canonical gold answer) of a questions-file record."""
    answer, gold = record.get("answer"), record.get("gold_answer")
    if answer is None and gold is None:
        raise _missing(row, "gold_answer", "answer")
    from_gold = _number(gold, "gold_answer", row) if gold is not None else None
    has_solution = isinstance(answer, str) and ANSWER_MARKER in answer
    from_answer = None
    if has_solution:
        from_answer = extract_answer(answer)
        if from_answer is None:
            raise InvalidImport(row, f"field 'answer' has no number after '{ANSWER_MARKER}'")
    elif answer is not None:
        from_answer = _number(answer, "answer", row)
    if from_gold is not None and from_answer is not None and from_gold != from_answer:
        raise InvalidImport(row, f"gold_answer {from_gold} disagrees with the answer's {from_answer}")
    canonical = from_gold if from_gold is not None else from_answer
    return (answer if has_solution else f"{ANSWER_MARKER} {canonical}"), canonical


def read_questions(path: str | Path) -> QuestionFile:
    """Every question of a questions file, by id; duplicated ids are an error."""
    stem = Path(path).stem
    by_id: dict[str, ImportedQuestion] = {}
    for row, record in read_records(path):
        question_id = record.get("question_id")
        question_id = f"{stem}-{row.number - 1:05d}" if question_id is None else _identifier(question_id, "question_id", row)
        if question_id in by_id:
            raise InvalidImport(row, f"question_id {show(question_id)} is also at {by_id[question_id].row}")
        answer_text, gold = _gold(record, row)
        by_id[question_id] = ImportedQuestion(question_id, _string(record, "question", row), answer_text, gold, row)
    if not by_id:
        raise InvalidImport(path, "no questions in the file")
    return QuestionFile(str(path), by_id)


# -- generations -------------------------------------------------------------------------------


def _question_id(record: dict, row: Row, questions: QuestionFile) -> str:
    question_id, text = record.get("question_id"), record.get("question")
    if question_id is None and text is None:
        raise _missing(row, "question_id", "question")
    if text is not None and not isinstance(text, str):
        raise _wrong_type(row, "question", "a string", text)
    if question_id is None:
        return questions.id_of_text(text, row)
    question_id = _identifier(question_id, "question_id", row)
    if question_id not in questions.by_id:
        raise InvalidImport(row, f"question_id {show(question_id)} is not in {questions.path}")
    if text is not None and text.strip() != questions.by_id[question_id].question.strip():
        raise InvalidImport(row, f"question text differs from question_id {show(question_id)}'s in {questions.path}")
    return question_id


def _sample_idx(record: dict, row: Row) -> int:
    idx, alias = record.get("sample_idx"), record.get("sample_id")
    if idx is None and alias is None:
        raise _missing(row, "sample_idx")
    if idx is not None and alias is not None and idx != alias:
        raise InvalidImport(row, f"sample_idx {show(idx)} and sample_id {show(alias)} disagree")
    name = "sample_idx" if idx is not None else "sample_id"
    return _integer(idx if idx is not None else alias, name, row, 0, MAX_SAMPLE_IDX)


def _model(record: dict, row: Row, default_model: str | None) -> str:
    model = record.get("model", default_model)
    if model is None:
        raise InvalidImport(row, "field 'model' is missing (or name the model with --model)")
    if not isinstance(model, str):
        raise _wrong_type(row, "model", "a string", model)
    if not MODEL_NAME.fullmatch(model):
        raise InvalidImport(row, f"invalid model name {show(model)}: use 1-64 letters, digits, '.', '_' or '-'")
    return model


def _temperature(value, row: Row) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidImport(row, f"field 'temperature' must be a number >= 0, got {show(value)}")
    return float(value)


def check_generation(record: dict, row: Row, questions: QuestionFile, default_model: str | None = None) -> dict:
    """One generations-file record as a clean row (GENERATION_FIELDS), or InvalidImport."""
    seed = record.get("seed")
    return {
        "model": _model(record, row, default_model),
        "question_id": _question_id(record, row, questions),
        "sample_idx": _sample_idx(record, row),
        "text": _string(record, "text", row),
        "seed": None if seed is None else _integer(seed, "seed", row, -(2**63), 2**63 - 1),
        "temperature": _temperature(record.get("temperature"), row),
    }


def check_generations(
    records: Iterable[tuple[Row, dict]], questions: QuestionFile, default_model: str | None = None
) -> Iterator[dict]:
    """Clean rows in input order; a (model, question, sample) key seen before is an error."""
    seen: dict[tuple[str, str, int], Row] = {}
    for row, record in records:
        generation = check_generation(record, row, questions, default_model)
        key = (generation["model"], generation["question_id"], generation["sample_idx"])
        if key in seen:
            raise InvalidImport(row, f"duplicate of {seen[key]}: model {key[0]}, question {key[1]}, sample {key[2]}")
        seen[key] = row
        yield generation


def read_generations(
    paths: Iterable[str | Path], questions: QuestionFile, default_model: str | None = None
) -> Iterator[dict]:
    """Every generation of one or more files, checked row by row (see the module's docstring)."""
    paths = [str(p) for p in paths]
    n = 0
    for generation in check_generations(chain.from_iterable(map(read_records, paths)), questions, default_model):
        n += 1
        yield generation
    if n == 0:
        raise InvalidImport(", ".join(paths), "no generations to import")
