"""Who writes which rows of `rft.questions`: the task (the `questions` asset) or `rft import`.

The rules, so that neither side wipes or duplicates the other's rows:
- The task owns every row whose split is `train` or `test`; materialising `questions` replaces
  exactly those (and the imported rows it takes over, below), never other imported rows.
- `rft import` owns rows with split `import` and source = the questions file it read; a
  re-import of that file replaces exactly those. It writes only the questions its generations
  answer and that the table does not hold yet. An imported question whose id the table already
  holds must be the same question (text and canonical gold answer), and it is reused as it is.
- Imported paths never answer a test question (by id or by text): they would leak into RFT
  training sets.
- When the task later holds an imported question itself (same id, same question, a train
  question), the task takes the row over; a different question under that id is an error.
Imported questions are not in the `train` split, so local models neither train on their gold
solutions nor sample them; their paths still reach `distinct_paths` and the RFT sets.
"""

from __future__ import annotations

from collections.abc import Iterable

from rft.ingest.generation_files import InvalidImport, show
from rft.ingest.generations import IMPORT_SPLIT, ImportedQuestion, QuestionFile

def _same_question(question: str, gold: str, row: dict) -> bool:
    return question.strip() == (row["question"] or "").strip() and gold == row["gold_answer"]


def questions_to_write(
    questions: QuestionFile, used_ids: Iterable[str], existing: list[dict], source: str
) -> list[dict]:
    """Rows of `rft.questions` an import writes (split `import`, this source).

    `existing`: rows (question_id, split, question, gold_answer, source) of the table, except the
    rows this source wrote before (they are replaced).
    """
    held = {row["question_id"]: row for row in existing}
    test_texts = {(row["question"] or "").strip(): row for row in existing if row["split"] == "test"}
    rows = []
    for question_id in sorted(set(used_ids)):
        q: ImportedQuestion = questions.by_id[question_id]
        mine = held.get(question_id)
        if mine is not None and not _same_question(q.question, q.gold_answer, mine):
            raise InvalidImport(
                q.row, f"question_id {show(question_id)} is already in rft.questions (from {mine['source']}) "
                "as a different question or gold answer: give this file's questions ids of their own",
            )
        # A test question, by its id or (under a new id) by its text.
        if mine is None:
            test = test_texts.get(q.question.strip())
        else:
            test = mine if mine["split"] == "test" else None
        if test is not None:
            raise InvalidImport(
                q.row, f"question {show(q.question)} is test question {test['question_id']} of the task "
                "(its paths would leak into RFT training sets)",
            )
        if mine is None:
            rows.append({
                "question_id": question_id, "split": IMPORT_SPLIT, "question": q.question,
                "answer_text": q.answer_text, "gold_answer": q.gold_answer, "source": source,
            })
    return rows


def claim_imported_questions(task_rows: list[dict], imported_rows: list[dict]) -> list[str]:
    """Ids of imported questions the task now holds itself (the task's rows replace them).

    `task_rows`: the rows the `questions` asset writes; `imported_rows`: the table's rows with
    split `import`. Raises ValueError when the task uses an imported id for another question,
    or when an imported question is one of the task's test questions.
    """
    task = {row["question_id"]: row for row in task_rows}
    claimed = []
    for row in imported_rows:
        mine = task.get(row["question_id"])
        if mine is None:
            continue
        if mine["split"] != "train":
            raise ValueError(
                f"question_id {row['question_id']!r} is a {mine['split']} question of the task, but generations "
                f"imported from {row['source']} answer it (they would leak into RFT training sets): "
                "delete that import's rows first"
            )
        if not _same_question(mine["question"], mine["gold_answer"], row):
            raise ValueError(
                f"question_id {row['question_id']!r} of the task is held by another question, imported from "
                f"{row['source']}: re-import those generations under other question ids, or delete its rows first"
            )
        claimed.append(row["question_id"])
    return sorted(claimed)
