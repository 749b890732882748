"""What the external steps read, cut from the lakehouse: questions of a split, training examples,
the corpus a tiny base is built from, the held-out texts.

    export_parquet(train_questions(lake.table("questions")), "questions.parquet")   # the sample step's input
    sft = sft_examples(lake.table("questions"))          # pandas: prompt, response
    rft = path_examples(paths, questions)                # paths (question_id, text) as examples
    sft, rft = training_set_examples(lake, manifest)     # what an RFT checkpoint trains on

Spark frames where a step reads a file exported from them; small pandas frames where the
orchestrator assembles the examples itself.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.task.prompts import format_prompt, format_response, heldout_text
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.rft_datasets import stored_rows


def train_questions(questions: DataFrame) -> DataFrame:
    """The train split's questions: question_id, question."""
    return questions.filter(F.col("split") == "train").select("question_id", "question")


def test_questions(questions: DataFrame) -> DataFrame:
    """The test split, as the evaluate step reads it: question_id, question, gold_answer."""
    return questions.filter(F.col("split") == "test").select("question_id", "question", "gold_answer")


def base_corpus(questions: DataFrame) -> DataFrame:
    """The texts a tiny base's tokenizer and weights start from: the train split's question, answer."""
    return questions.filter(F.col("split") == "train").select("question", F.col("answer_text").alias("answer"))


def as_examples(rows: pd.DataFrame) -> pd.DataFrame:
    """(question, text) rows as the train step's (prompt, response)."""
    return pd.DataFrame({"prompt": rows["question"].map(format_prompt), "response": rows["text"].map(format_response)})


def sft_examples(questions: DataFrame) -> pd.DataFrame:
    """The gold reasoning path of every train question as (prompt, response)."""
    train = to_pandas(questions.filter(F.col("split") == "train").select("question", F.col("answer_text").alias("text")))
    return as_examples(train)


def path_examples(paths: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """Paths (question_id, text) with their question's text (question_id, question), as examples."""
    return as_examples(paths.merge(questions, on="question_id", how="inner", validate="many_to_one"))


def training_set_examples(lake: Lakehouse, manifest: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(SFT examples, the RFT set's examples): exactly the data a manifest names, at its Delta versions."""
    questions = lake.table("questions", (manifest["table_versions"] or {}).get("questions"))
    paths = to_pandas(stored_rows(lake, manifest).select("question_id", "text"))
    return sft_examples(questions), path_examples(paths, to_pandas(questions.select("question_id", "question")))


def heldout_corpus(questions: DataFrame) -> pd.DataFrame:
    """The test split's questions with their gold solutions, one document each (column text)."""
    test = to_pandas(questions.filter(F.col("split") == "test").select("question", "answer_text").orderBy("question_id"))
    return pd.DataFrame({"text": [heldout_text(q, a) for q, a in zip(test["question"], test["answer_text"])]})
