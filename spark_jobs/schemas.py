"""Every table of the lakehouse: its schema, partitioning, key and what one row is.

This is the one place the schemas are written down; `rft tables` and the README point here.
All tables live in the `rft` database as Delta tables, so `SELECT ... FROM rft.sampled_paths`
works from Spark SQL, dbt and `rft sql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from spark_jobs.sql_types import arrow_type

DATABASE = "rft"

# Delta drops log entries older than 30 days by default, and with them `VERSION AS OF` those
# versions; training-set manifests pin versions for good, so every table keeps its log.
TABLE_PROPERTIES = {"delta.logRetentionDuration": "interval 3650 days"}


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Table:
    name: str
    row: str  # what one row is
    columns: tuple[tuple[str, str, str], ...]  # (name, Spark SQL type, meaning)
    key: tuple[str, ...]  # unique per row; re-materialising replaces rows by key, never appends twice
    partitioned_by: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # columns a writer may leave out (added later): written as null

    @property
    def qualified(self) -> str:
        return f"{DATABASE}.{self.name}"

    @property
    def ddl_columns(self) -> str:
        return ", ".join(f"{name} {sql_type} COMMENT {_quote(doc)}" for name, sql_type, doc in self.columns)

    @property
    def schema(self) -> str:
        """The schema as a Spark DDL string, for `createDataFrame`/`from_json`."""
        return self.ddl()

    @property
    def column_names(self) -> list[str]:
        return [name for name, _, _ in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [name for name in self.column_names if name not in self.optional]

    @property
    def required_schema(self) -> str:
        """The DDL of the columns every writer gives (all but `optional`)."""
        return self.ddl(self.required_columns)

    def column_types(self, names: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(name, Spark SQL type) of the named columns in that order, or of every column."""
        types = {name: sql_type for name, sql_type, _ in self.columns}
        unknown = [name for name in names or () if name not in types]
        if unknown:
            raise KeyError(f"{self.qualified} has no column {', '.join(unknown)}")
        return [(name, types[name]) for name in (names if names is not None else self.column_names)]

    def ddl(self, names: Sequence[str] | None = None) -> str:
        """Spark DDL of the named columns (default: all), e.g. for a UDF's return type."""
        return ", ".join(f"{name} {sql_type}" for name, sql_type in self.column_types(names))

    def arrow_schema(self, names: Sequence[str] | None = None) -> pa.Schema:
        """The named columns (default: all) as Arrow types, as Spark hands them to an Arrow UDF."""
        return pa.schema([(name, arrow_type(sql_type)) for name, sql_type in self.column_types(names)])

    def create_sql(self) -> str:
        partition = f" PARTITIONED BY ({', '.join(self.partitioned_by)})" if self.partitioned_by else ""
        properties = ", ".join(f"{_quote(k)} = {_quote(v)}" for k, v in TABLE_PROPERTIES.items())
        return (
            f"CREATE TABLE IF NOT EXISTS {self.qualified} ({self.ddl_columns}) USING delta"
            f"{partition} COMMENT {_quote(self.row)} TBLPROPERTIES ({properties})"
        )


QUESTIONS = Table(
    name="questions",
    row="One record per question of a split, with its gold solution and canonical gold answer",
    columns=(
        ("question_id", "STRING", "stable id, e.g. train-00042"),
        ("split", "STRING", "train or test (the task's), or import (answered only by imported generations)"),
        ("question", "STRING", "the word problem"),
        ("answer_text", "STRING", "gold reasoning path ending in #### n"),
        ("gold_answer", "STRING", "canonical number after ####"),
        ("source", "STRING", "embedded, or the path of the JSONL (or imported questions) file"),
    ),
    key=("question_id",),
)

SAMPLED_PATHS = Table(
    name="sampled_paths",
    row="One record per sampled (or imported) reasoning path: one model, one question, one sample",
    columns=(
        ("path_id", "STRING", "sha1 of model, question_id and sample_idx"),
        ("model", "STRING", "model partition key"),
        ("question_id", "STRING", "question it answers"),
        ("sample_idx", "INT", "0..k-1"),
        ("seed", "BIGINT", "sampling seed; the same seed gives the same text (null if an import lacks it)"),
        ("temperature", "DOUBLE", "sampling temperature"),
        ("text", "STRING", "generated completion, untrusted"),
        ("backend", "STRING", "transformers, vllm or import"),
        ("run_id", "STRING", "Dagster run (or import) that wrote it"),
        # Added with finish reasons; rows sampled before them, and imports, read null.
        ("n_new_tokens", "INT", "tokens generated (null for imports and rows sampled before it was recorded)"),
        ("finish_reason", "STRING", "eos, or length where max_new_tokens cut the path (null: unknown)"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "sampled (or imported) in round r: 0 from the SFT model, r+1 from round r's RFT model; null: 0"),
    ),
    key=("path_id",),
    partitioned_by=("model",),
    optional=("n_new_tokens", "finish_reason", "round"),
)

VERIFIED_PATHS = Table(
    name="verified_paths",
    row="One record per sampled path with the verdict of the filter",
    columns=(
        ("path_id", "STRING", "sampled path"),
        ("model", "STRING", "model partition key"),
        ("question_id", "STRING", "question"),
        ("sample_idx", "INT", "sample index"),
        ("is_correct", "BOOLEAN", "final answer matches gold and every equation holds"),
        ("answer", "STRING", "canonical extracted answer, null if none"),
        ("gold_answer", "STRING", "canonical gold answer"),
        ("equation_list", "STRING", "equations in order, whitespace removed, joined by |"),
        ("n_equations", "INT", "number of <<...>> annotations"),
        ("reject_reason", "STRING", "why it was rejected; null when correct"),
        ("filter_version", "STRING", "version of the verification rules"),
        # Dedup needs the texts of correct paths; keeping them here saves joining every
        # sampled text back (a shuffle of the largest table) at the cost of storing 40% twice.
        ("text", "STRING", "the path's text when correct (read by dedup); null when rejected"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the sampled path; null: 0"),
    ),
    key=("path_id",),
    partitioned_by=("model",),
    optional=("round",),
)

DISTINCT_PATHS = Table(
    name="distinct_paths",
    row="One record per (pool, question, equation list): the representative correct path",
    columns=(
        ("pool", "STRING", "union, or own:<model> for one model's own paths"),
        ("question_id", "STRING", "question"),
        ("equation_list", "STRING", "the reasoning, as its equation list"),
        ("path_id", "STRING", "the representative path chosen by the diversity rule"),
        ("model", "STRING", "model that produced the representative"),
        ("text", "STRING", "representative text"),
        ("diversity_score", "BIGINT", "summed Levenshtein distance to the other equation lists' anchors"),
        ("n_producers", "INT", "correct paths with this equation list in the pool"),
        ("producer_models", "ARRAY<STRING>", "every model that produced this equation list"),
        # `round` was added to the struct with rounds (last, where ALTER TABLE puts it); null: 0.
        ("producers", "ARRAY<STRUCT<model: STRING, path_id: STRING, sample_idx: INT, round: INT>>",
         "every producing sample: its model, path, sample index and round"),
        ("filter_version", "STRING", "version of the verification rules"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the pool (its name ends in @r<round> after round 0); null: 0"),
    ),
    key=("pool", "question_id", "equation_list"),
    partitioned_by=("pool",),
    optional=("round",),
)

RFT_DATASETS = Table(
    name="rft_datasets",
    row="One record per named RFT training set: its manifest",
    columns=(
        ("dataset", "STRING", "name, e.g. own:tiny-llama-a or union"),
        ("pool", "STRING", "distinct_paths pool it was read from"),
        ("source_models", "ARRAY<STRING>", "models whose samples it holds"),
        ("k", "INT", "samples per question"),
        ("temperature", "DOUBLE", "sampling temperature"),
        ("filter_version", "STRING", "verification rules"),
        ("table_versions", "MAP<STRING, BIGINT>", "Delta version of each table read (VERSION AS OF rebuilds the set)"),
        ("n_rft_rows", "INT", "distinct paths it holds"),
        ("n_sft_rows", "INT", "gold SFT rows added at training time"),
        ("n_questions", "INT", "train questions with at least one path"),
        ("created_run_id", "STRING", "Dagster run"),
        ("rows_version", "BIGINT", "Delta version of rft_dataset_rows holding its rows (null before it was recorded)"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the training set (its name ends in @r<round> after round 0); null: 0"),
    ),
    key=("dataset",),
    optional=("round",),
)

RFT_DATASET_ROWS = Table(
    name="rft_dataset_rows",
    row="One record per training example of a named RFT set",
    columns=(
        ("dataset", "STRING", "training set name"),
        ("question_id", "STRING", "question"),
        ("path_id", "STRING", "distinct path"),
        ("model", "STRING", "model that produced it"),
        ("equation_list", "STRING", "its reasoning"),
        ("text", "STRING", "the reasoning path used as response"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the training set; null: 0"),
    ),
    key=("dataset", "path_id"),
    partitioned_by=("dataset",),
    optional=("round",),
)

MODELS = Table(
    name="models",
    row="One record per trained checkpoint (SFT, RFT or step-matched SFT control) and its training run",
    columns=(
        ("model", "STRING", "model partition key"),
        ("stage", "STRING", "sft, rft or sft_matched (SFT data alone for the steps of the RFT run it matches)"),
        ("training_set", "STRING", "sft, or the RFT set name (sft_matched: the RFT set it matches)"),
        ("checkpoint", "STRING", "folder of the saved model"),
        ("base", "STRING", "base model it started from"),
        ("method", "STRING", "full or lora"),
        ("n_examples", "INT", "training examples"),
        ("n_steps", "INT", "optimizer steps"),
        ("final_loss", "DOUBLE", "mean loss over the last 10% of steps"),
        ("tokens_per_s", "DOUBLE", "training throughput"),
        ("seconds", "DOUBLE", "training wall time"),
        ("train_config", "STRING", "JSON of the training config"),
        ("data_manifest", "STRING", "JSON: the data it was trained on"),
        ("run_id", "STRING", "Dagster run"),
        # Added with training seeds and step-matched controls (spark_jobs/seed_migration.py fills old rows).
        ("seed", "INT", "training seed (train_config seed + 0 .. n_seeds-1)"),
        ("n_tokens", "BIGINT", "non-padding tokens seen in training (null before it was recorded)"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the RFT set it trained on (sft: 0); null: 0"),
    ),
    key=("model", "stage", "training_set", "seed"),
    optional=("round",),
)

EVAL_RESULTS = Table(
    name="eval_results",
    row="One record per (model, stage, training set, seed, metric) on the test split",
    columns=(
        ("model", "STRING", "model partition key"),
        ("stage", "STRING", "sft, rft or sft_matched"),
        ("training_set", "STRING", "sft, or the RFT set name"),
        ("metric", "STRING", "maj1@1 (greedy) or maj1@K"),
        ("n_test", "INT", "test questions"),
        ("n_correct", "INT", "correct answers"),
        ("accuracy", "DOUBLE", "n_correct / n_test"),
        ("ci_low", "DOUBLE", "95% Wilson interval, low"),
        ("ci_high", "DOUBLE", "95% Wilson interval, high"),
        ("checkpoint", "STRING", "model evaluated"),
        ("run_id", "STRING", "Dagster run"),
        # Added with training seeds and step-matched controls (spark_jobs/seed_migration.py fills old rows).
        ("seed", "INT", "training seed of the checkpoint"),
        ("n_steps", "INT", "optimizer steps of the checkpoint's training"),
        ("n_tokens", "BIGINT", "tokens seen in the checkpoint's training (null before it was recorded)"),
        ("grades", "STRING", "one character per test question in question_id order: 1 correct, 0 wrong "
                             "(paired tests; null before it was recorded)"),
        # Added with the reference scoring mode; rows written before it read null, which was strict.
        ("scoring", "STRING", "answer rule n_correct counts: strict or reference (docs/verification.md)"),
        # Added with rounds; null reads as round 0 (every row written before rounds is round 0).
        ("round", "INT", "round of the checkpoint's training set (sft: 0); null: 0"),
    ),
    key=("model", "stage", "training_set", "seed", "metric"),
    optional=("round",),
)

STUDY_RESULTS = Table(
    name="study_results",
    row="One record per cell of a scaling study: one training run at one setting and its test accuracy, "
        "or one measurement (a base model's held-out loss)",
    columns=(
        ("study", "STRING", "rft_vs_k, sft_vs_data, rft_vs_diversity, pretrain_loss or union_gain (rft/studies/cells.py)"),
        ("model", "STRING", "model partition key"),
        ("cell_id", "STRING", "sha1 of the cell's settings (config): a finished cell with this id is reused"),
        ("varies", "STRING", ("what x is: k (first k samples per question), fraction (of the train split), "
                              "selection (x: RFT paths added), training_set (x: its distinct paths) or loss")),
        ("x", "DOUBLE", "the value that varies; for pretrain_loss the base model's mean per-token loss (nats)"),
        ("seed", "INT", "training seed (null for pretrain_loss: nothing is trained)"),
        ("distinct_paths", "INT", "distinct RFT paths trained on (0 for SFT cells)"),
        ("n_sft_rows", "INT", "gold SFT examples trained on"),
        ("n_examples", "INT", "training examples in all"),
        ("n_steps", "INT", "optimizer steps"),
        ("n_test", "INT", "test questions (pretrain_loss: held-out texts scored)"),
        ("n_correct", "INT", "correct greedy answers (null for pretrain_loss)"),
        ("accuracy", "DOUBLE", "n_correct / n_test (maj1@1; null for pretrain_loss)"),
        ("ci_low", "DOUBLE", "95% Wilson interval, low"),
        ("ci_high", "DOUBLE", "95% Wilson interval, high"),
        ("config", "STRING", "JSON: the cell's settings (what varies, its value, seed and everything fixed)"),
        ("table_versions", "MAP<STRING, BIGINT>", "Delta version of each table the training set was read from"),
        ("checkpoint", "STRING", "folder of the trained model"),
        ("run_id", "STRING", "Dagster run that computed the cell"),
        ("computed_at", "TIMESTAMP", "when the cell's row was written (the latest settings are the newest cell's)"),
        # Added with the categorical studies and the loss study; old warehouses get them as null.
        ("arm", "STRING", ("the named setting a categorical study compares: distinct, all_correct or duplicates "
                           "(rft_vs_diversity), own or union (union_gain); null for the others")),
        ("n_params", "BIGINT", "parameters of the base model (pretrain_loss); null for the others"),
        ("n_tokens", "BIGINT", "held-out tokens the loss averages over (pretrain_loss); null for the others"),
    ),
    key=("study", "model", "cell_id"),
    partitioned_by=("study",),
)

ALL_TABLES = (
    QUESTIONS, SAMPLED_PATHS, VERIFIED_PATHS, DISTINCT_PATHS,
    RFT_DATASETS, RFT_DATASET_ROWS, MODELS, EVAL_RESULTS, STUDY_RESULTS,
)
TABLES = {table.name: table for table in ALL_TABLES}
