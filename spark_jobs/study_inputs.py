"""What the studies' cells read from the lakehouse: each training cell's examples, and the RFT
evaluations union_gain reuses.

    for prepared in rft_vs_k_examples(lake, model, config, cells, log):   # one CellExamples per cell,
        prepared.examples, prepared.counts                                  # made when it is its turn
    evaluations, rows = union_gain_evaluations(lake, model, versions)

Nothing is sampled again: RFT vs k and RFT vs diversity read `rft.verified_paths`, after checking it
holds the sampling run the config names; SFT vs data reads `rft.questions`. Where a table does not
hold what a cell needs, a StudyInputError says what to materialise first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rft.config.rft_config import RftConfig
from rft.studies.cells import RFT_VS_DIVERSITY, StudyCell, is_control
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.step_inputs import as_examples, path_examples, sft_examples, train_questions
from spark_jobs.study_accuracy import rft_set_evaluations
from spark_jobs.study_datasets import filter_fraction, first_k_distinct_paths, sampling_mismatch, with_subset_order
from spark_jobs.study_selection import own_correct_paths, paths_per_selection, select_paths

MANIFEST_FIELDS = ("dataset", "source_models", "rows_version", "table_versions", "n_rft_rows")


class StudyInputError(ValueError):
    """The lakehouse does not hold what a study's cell reads (yet): the message says what to materialise."""


@dataclass(frozen=True)
class CellExamples:
    """One training cell's examples and what its row records about them."""

    cell: StudyCell
    examples: pd.DataFrame  # prompt, response
    counts: dict  # the row's distinct_paths and n_sft_rows (and x: the paths a diversity cell added)
    table_versions: dict[str, int]  # the Delta versions the examples were read at


def sampled_as_configured(lake: Lakehouse, model: str, config: RftConfig) -> tuple[dict[str, int], DataFrame]:
    """(table versions read, the model's verified paths), after checking they were drawn as the config says."""
    versions = {name: lake.version(name) for name in ("questions", "verified_paths")}
    verified = lake.table("verified_paths", versions["verified_paths"])
    problem = sampling_mismatch(verified, lake.table("sampled_paths"), model, config.sampling)
    if problem:
        raise StudyInputError(f"{problem}: materialise sampled_paths and verified_paths of {model!r} "
                              "with this config first")
    return versions, verified


def _train_questions(lake: Lakehouse, version: int) -> pd.DataFrame:
    return to_pandas(train_questions(lake.table("questions", version)))


def rft_vs_k_examples(lake: Lakehouse, model: str, config: RftConfig, cells: list[StudyCell],
                      log: Callable[[str], None]) -> Iterator[CellExamples]:
    """Per cell: the SFT data + the model's distinct paths among each question's first k (x) samples."""
    versions, verified = sampled_as_configured(lake, model, config)
    sft = sft_examples(lake.table("questions", versions["questions"]))
    questions = _train_questions(lake, versions["questions"])
    for cell in cells:
        if is_control(cell):  # the SFT data alone; its steps come from the RFT cell it matches
            yield CellExamples(cell, sft, {"distinct_paths": 0, "n_sft_rows": len(sft)}, versions)
            continue
        paths = to_pandas(first_k_distinct_paths(verified, model, int(cell.x)).select("question_id", "text"))
        added = path_examples(paths, questions)
        yield CellExamples(cell, pd.concat([sft, added], ignore_index=True),
                           {"distinct_paths": len(added), "n_sft_rows": len(sft)}, versions)


def sft_vs_data_examples(lake: Lakehouse, model: str, config: RftConfig, cells: list[StudyCell],
                         log: Callable[[str], None]) -> Iterator[CellExamples]:
    """Per cell: the gold solutions of the first fraction (x) of the train questions, in the seeded order."""
    versions = {"questions": lake.version("questions")}
    ordered = with_subset_order(lake.table("questions", versions["questions"]), config.studies.sft_vs_data.subset_seed)
    n_train = ordered.count()
    for cell in cells:
        subset = to_pandas(filter_fraction(ordered, cell.x, n_train).select("question", F.col("answer_text").alias("text")))
        yield CellExamples(cell, as_examples(subset), {"distinct_paths": 0, "n_sft_rows": len(subset)}, versions)


def rft_vs_diversity_examples(lake: Lakehouse, model: str, config: RftConfig, cells: list[StudyCell],
                              log: Callable[[str], None]) -> Iterator[CellExamples]:
    """Per cell: the SFT data + n of the model's correct paths, chosen as the cell's selection (arm) says."""
    study = config.studies.rft_vs_diversity
    versions, verified = sampled_as_configured(lake, model, config)
    # Computed once: the dedup UDF runs once, not once per selection and count.
    distinct = lake.computed_once(first_k_distinct_paths(verified, model, config.sampling.k))
    correct = own_correct_paths(verified, model)
    n_distinct_all = distinct.count()
    n = paths_per_selection(study.n_paths, n_distinct_all)
    log(f"{RFT_VS_DIVERSITY} {model}: {n} paths per cell ({n_distinct_all} distinct paths)")
    sft = sft_examples(lake.table("questions", versions["questions"]))
    questions = _train_questions(lake, versions["questions"])
    for cell in cells:
        if is_control(cell):  # the SFT data alone; its steps come from the RFT cell it matches
            yield CellExamples(cell, sft, {"x": 0.0, "distinct_paths": 0, "n_sft_rows": len(sft)}, versions)
            continue
        paths = to_pandas(select_paths(cell.arm, distinct=distinct, correct=correct, n=n,
                                       seed=study.selection_seed, duplicate_share=study.duplicate_share))
        examples, counts = selection_examples(paths, questions, sft)
        yield CellExamples(cell, examples, counts, versions)


def selection_examples(paths: pd.DataFrame, questions: pd.DataFrame, sft: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A diversity cell's training examples (SFT data, then the selected paths) and its row's counts.

    x is the paths added, repeats included; distinct_paths counts their (question, equation list).
    """
    n_distinct = len(paths[["question_id", "equation_list"]].drop_duplicates())
    added = path_examples(paths, questions)
    examples = pd.concat([sft, added], ignore_index=True)
    return examples, {"x": float(len(added)), "distinct_paths": n_distinct, "n_sft_rows": len(sft)}


def union_gain_evaluations(lake: Lakehouse, model: str, versions: dict[str, int]) -> tuple[dict[str, dict], pd.DataFrame]:
    """Each arm's (own, union) evaluation and checkpoint, as the cells' settings and as rows.

    A StudyInputError where an arm has no evaluation, one of an older checkpoint, or no recorded set sizes.
    """
    rows = to_pandas(rft_set_evaluations(lake.table("eval_results", versions["eval_results"]),
                                         lake.table("models", versions["models"]), model))
    missing = sorted({"own", "union"} - set(rows["arm"]))
    if missing:
        raise StudyInputError(
            f"rft.eval_results holds no greedy evaluation of {model!r} after RFT on {' or '.join(missing)}: "
            "materialise rft_model and eval_results of it (rft_training_sets: [own, union]) first")
    stale = rows[rows["checkpoint"] != rows["trained_checkpoint"]]
    if not stale.empty:
        raise StudyInputError(
            f"the evaluation of {model!r} on {', '.join(stale['training_set'])} is not of its current "
            "checkpoint (rft.models): materialise eval_results of it first")
    evaluations = {}
    for r in rows.itertuples():
        manifest = json.loads(r.data_manifest or "{}")
        if manifest.get("rft_rows") is None or manifest.get("sft_rows") is None:
            raise StudyInputError(f"rft.models records no training-set sizes for {model!r} on {r.training_set} "
                                  "(data_manifest rft_rows, sft_rows): materialise rft_model of it again")
        evaluations[r.arm] = {
            "training_set": r.training_set, "checkpoint": r.checkpoint, "eval_run_id": r.eval_run_id,
            "train_config": json.loads(r.train_config),
            "manifest": {k: manifest.get(k) for k in MANIFEST_FIELDS},
        }
    return evaluations, rows
