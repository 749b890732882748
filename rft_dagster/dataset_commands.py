"""`rft datasets list` and `rft datasets rebuild`: the RFT training sets and their exact rebuilds.

    rft datasets list                          # every manifest: sizes, sampling, Delta versions
    rft datasets rebuild union --out union.parquet
    rft datasets rebuild union --as-of 3       # the set as rft.rft_datasets version 3 described it
    rft datasets rebuild union --model tiny-llama-a   # what that model's union checkpoint learned from
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from spark_jobs.rft_datasets import read_manifest, rebuild_rows, stored_rows, trained_manifest, with_question_text
from spark_jobs.lakehouse import Lakehouse, to_pandas

MANIFEST_COLUMNS = [
    "dataset", "source_models", "k", "temperature", "filter_version", "n_rft_rows", "n_questions",
    "n_sft_rows", "table_versions", "rows_version",
]


def manifests(lake: Lakehouse, as_of: int | None = None) -> pd.DataFrame:
    frame = to_pandas(lake.table("rft_datasets", as_of).orderBy("dataset"))
    frame = frame.reindex(columns=MANIFEST_COLUMNS)
    frame["source_models"] = frame["source_models"].map(lambda models: ", ".join(models))
    frame["table_versions"] = frame["table_versions"].map(
        lambda versions: ", ".join(f"{name} {version}" for name, version in sorted(dict(versions or {}).items()))
    )
    return frame


@dataclass(frozen=True)
class Rebuild:
    manifest: dict
    rows: pd.DataFrame  # dataset, question_id, question, path_id, model, equation_list, text
    matches_stored: bool | None  # equal to rft.rft_dataset_rows at the manifest's rows_version; None: not recorded


def rebuild(lake: Lakehouse, dataset: str, *, as_of: int | None = None, model: str | None = None) -> Rebuild:
    """Rebuild a training set from its manifest, and check it against the rows stored with it."""
    if model is not None and as_of is not None:
        raise ValueError("give --as-of or --model, not both")
    manifest = trained_manifest(lake, model, dataset) if model else read_manifest(lake, dataset, as_of)
    rows = rebuild_rows(lake, manifest)
    matches = None
    if manifest.get("rows_version") is not None:
        stored = stored_rows(lake, manifest)
        matches = rows.exceptAll(stored).isEmpty() and stored.exceptAll(rows).isEmpty()
    frame = to_pandas(with_question_text(rows, lake, manifest).orderBy("question_id", "path_id"))
    return Rebuild(manifest=manifest, rows=frame, matches_stored=matches)


def describe(result: Rebuild, out: Path | None) -> str:
    m = result.manifest
    versions = dict(m.get("table_versions") or {})
    lines = [
        f"{m['dataset']}: {len(result.rows)} paths over {result.rows['question_id'].nunique()} questions, "
        f"rebuilt from rft.distinct_paths VERSION AS OF {versions['distinct_paths']}",
        f"  models {', '.join(m['source_models'])}; k={m['k']}, temperature {m['temperature']}, "
        f"filter {m['filter_version']}; run {m['created_run_id']}",
        "  table versions: " + ", ".join(f"{name} {version}" for name, version in sorted(versions.items())),
    ]
    if result.matches_stored is None:
        lines.append("  (this manifest predates rows_version: no stored copy to compare with)")
    elif result.matches_stored:
        lines.append(f"  identical to the stored rows (rft.rft_dataset_rows VERSION AS OF {m['rows_version']})")
    else:
        lines.append(f"  DIFFERS from rft.rft_dataset_rows VERSION AS OF {m['rows_version']}")
    if out is not None:
        lines.append(f"wrote {out} ({len(result.rows)} rows: {', '.join(result.rows.columns)})")
    return "\n".join(lines)


def write(result: Rebuild, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".jsonl":
        result.rows.to_json(out, orient="records", lines=True, force_ascii=False)
    else:
        result.rows.to_parquet(out, index=False)
