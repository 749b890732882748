"""The questions a run uses: the embedded task or GSM8K-format JSONL files, per the config."""

from __future__ import annotations

from rft.filter.answers import extract_answer
from rft.config.rft_config import TaskConfig
from rft.task.generator import embedded_task
from rft.task.gsm8k import load_jsonl_questions


def load_questions(task: TaskConfig) -> list[dict]:
    """Rows of `rft.questions`: train and test, each with its canonical gold answer."""
    if task.source == "embedded":
        train, test = embedded_task(task.n_train, task.n_test, task.seed, difficulty=task.difficulty)
        train, test = train[: task.limit_train], test[: task.limit_test]
        source = f"embedded(seed={task.seed}, difficulty={task.difficulty})"
        splits = {"train": (train, source), "test": (test, source)}
    else:
        if not task.train_path or not task.test_path:
            raise ValueError("task.source is 'jsonl' but task.train_path or task.test_path is not set")
        splits = {
            "train": (load_jsonl_questions(task.train_path, "train", task.limit_train), task.train_path),
            "test": (load_jsonl_questions(task.test_path, "test", task.limit_test), task.test_path),
        }
    return [
        {
            "question_id": q["question_id"],
            "split": split,
            "question": q["question"],
            "answer_text": q["answer"],
            "gold_answer": extract_answer(q["answer"]),
            "source": source,
        }
        for split, (questions, source) in splits.items()
        for q in questions
    ]
