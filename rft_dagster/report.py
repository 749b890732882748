"""`rft report`: one self-contained HTML file with the run's tables and plots (images embedded).

    write_report(lake, Path("report.html"))

Every table is read at one Delta version, named at the top of the page, so the report says
exactly which data it shows and a later `VERSION AS OF` query gives the same numbers.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from rft.evaluation.pass_at_k import pass_at_k_curve
from rft.reporting.run_plots import accuracy_vs_paths_plot, pass_at_k_plot, png_data_uri
from rft.reporting.arm_tables import arm_table, comparison_table
from rft.reporting.round_plots import rounds_plot
from rft.reporting.round_tables import round_comparison_table
from rft.reporting.result_tables import funnel_table, with_interval
from rft.reporting.study_registry import STUDIES, find_study
from rft.studies.study_summary import latest_settings
from rft_dagster.dataset_commands import manifests
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_round
from spark_jobs.round_results import round_progress
from spark_jobs.run_results import accuracy_by_training_paths, first_correct_samples, funnel_counts, greedy_evaluations
from spark_jobs.study_accuracy import stage_accuracies

READ = ("verified_paths", "distinct_paths", "rft_datasets", "models", "eval_results", "study_results")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { text-align: left; color: #555; padding-bottom: 0.3em; }
.note { color: #555; font-size: 0.9em; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def report_data(lake: Lakehouse) -> dict:
    """The tables and figures of the report, every table read at its current Delta version."""
    versions = {name: lake.version(name) for name in READ}
    every_round = {name: lake.table(name, version) for name, version in versions.items()}
    # The paper's single round; later rounds have a section of their own.
    table = {name: frame.filter(where_round(0)) if "round" in frame.columns else frame
             for name, frame in every_round.items()}
    accuracy = to_pandas(accuracy_by_training_paths(table["eval_results"], table["models"]))
    curve = pass_at_k_curve(to_pandas(first_correct_samples(table["verified_paths"])))
    evals = to_pandas(table["eval_results"].drop("grades").orderBy("model", "stage", "training_set", "seed", "metric"))
    return {
        "versions": versions,
        "rounds": round_section(every_round),
        "funnel": funnel_table(*funnel_counts(table["verified_paths"], table["distinct_paths"])),
        "arms": arm_table(accuracy),
        "comparisons": comparison_table(accuracy),
        "accuracy": _accuracy_rows(evals, accuracy),
        "pass_at_k": curve,
        "datasets": manifests(lake, versions["rft_datasets"]),
        "pass_at_k_png": pass_at_k_plot(curve),
        "accuracy_png": accuracy_vs_paths_plot(accuracy),
        "studies": study_sections(table["study_results"], table["eval_results"]),
    }


def round_section(tables: dict) -> dict | None:
    """RFT in rounds, when any model has a round after 0: the table, each model's plot, the paired tests."""
    progress = to_pandas(round_progress(tables["verified_paths"], tables["distinct_paths"], tables["eval_results"]))
    later = sorted(set(progress.loc[progress["round"] > 0, "model"])) if not progress.empty else []
    if not later:
        return None
    tests = round_comparison_table(to_pandas(greedy_evaluations(tables["eval_results"])), later)
    return {"table": progress[progress["model"].isin(later)].reset_index(drop=True), "tests": tests,
            "pngs": {model: rounds_plot(progress, model) for model in later}}


def study_sections(study_results, eval_results) -> dict[str, dict]:
    """Per study with cells: its table and figure, from the newest settings of each (study, model)."""
    rows = latest_settings(to_pandas(study_results.drop("table_versions")))
    accuracies = None
    sections = {}
    for study in STUDIES:
        points = rows[rows["study"] == study.name] if not rows.empty else rows
        if points.empty:
            continue
        if study.across_models and accuracies is None:
            accuracies = to_pandas(stage_accuracies(eval_results))
        view = study.view(points, accuracies)
        notes = [f"{e.get('stage', e['model'])} vs {name}: no fit, {why}"
                 for e in view.entries for name, why in e.get("no_fit", {}).items()]
        sections[study.name] = {"png": view.png, "table": view.table, "notes": notes}
    return sections


def _accuracy_rows(evals: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    paths = {(r.model, r.stage, r.training_set, r.seed): r.distinct_paths for r in accuracy.itertuples()}
    return pd.DataFrame({
        "model": evals["model"], "stage": evals["stage"], "training set": evals["training_set"],
        "seed": evals["seed"], "metric": evals["metric"], "n_test": evals["n_test"], "correct": evals["n_correct"],
        "accuracy % [95% CI]": [with_interval(r.accuracy, r.ci_low, r.ci_high) for r in evals.itertuples()],
        "distinct paths trained on": [
            paths.get((r.model, r.stage, r.training_set, r.seed), "") for r in evals.itertuples()
        ],
        "steps": evals["n_steps"], "tokens": evals["n_tokens"],
    })


def render_html(data: dict, title: str = "RFT results") -> str:
    versions = ", ".join(f"rft.{name} v{version}" for name, version in data["versions"].items())
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    curve = data["pass_at_k"].assign(pass_at_k=lambda c: (100 * c["pass_at_k"]).round(1)).rename(
        columns={"pass_at_k": "pass@k %"}
    )
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Written {created} from {html.escape(versions)} "
        "(<code>rft sql \"... VERSION AS OF n\"</code> reads the same data).</p>",
        "<h2>Paths: sampled, correct, distinct</h2>",
        _table(data["funnel"], "Per model: distinct within its own paths; union: distinct across all models."),
        "<h2>SFT vs RFT, and RFT vs its step-matched SFT control</h2>",
        _table(data["arms"], "Greedy maj1@1 test accuracy %: one seed [95% Wilson interval], several mean ± sd over "
                             "seeds. SFT matched: the SFT data alone for the optimizer steps of the RFT run it matches."),
        _table(data["comparisons"], "RFT minus its step-matched SFT control and minus SFT, points [95% interval]: "
                                    "exact paired test over questions and seeds, p raw and Holm-adjusted over the rows."),
        _figure(data["accuracy_png"], "Accuracy vs distinct paths trained on"),
        "<h2>Every evaluation</h2>",
        _table(data["accuracy"], "One row per checkpoint and metric on the test split."),
        "<h2>pass@k</h2>",
        _figure(data["pass_at_k_png"], "pass@k per model"),
        _table(curve, "Share of train questions with a correct path among the first k samples."),
        "<h2>Training sets</h2>",
        _table(data["datasets"], "Manifests of rft.rft_datasets; `rft datasets rebuild NAME` rebuilds one exactly."),
        "<h2>Scaling studies</h2>",
        *_study_parts(data["studies"]),
        *_round_parts(data.get("rounds")),
    ]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _round_parts(rounds: dict | None) -> list[str]:
    if rounds is None:
        return []
    parts = ["<h2>RFT in rounds</h2>",
             _table(rounds["table"], "Per model and round (0: sampled from SFT; r+1: from round r's RFT model): "
                                     "questions solved at least once, distinct and new distinct paths of its own "
                                     "pool, RFT (own) accuracy over seeds, its step-matched control and the change "
                                     "from the previous round.")]
    parts += [_figure(png, f"{model}: rounds") for model, png in rounds["pngs"].items()]
    if not rounds["tests"].empty:
        parts.append(_table(rounds["tests"], "Each later round's RFT against the previous round's and against its "
                                             "step-matched SFT control: exact paired test over questions and seeds, "
                                             "p raw and Holm-adjusted over the rows."))
    return parts


def _study_parts(studies: dict[str, dict]) -> list[str]:
    if not studies:
        return ["<p class='note'>No study cells yet: materialise studies_job (rft.study_results).</p>"]
    parts = []
    for study, section in studies.items():
        parts += [f"<h3>{html.escape(study)}</h3>", _figure(section["png"], f"Scaling study {study}"),
                  _table(section["table"], find_study(study).caption + " Greedy test accuracy, [95% Wilson interval].")]
        parts += [f"<p class='note'>{html.escape(note)}</p>" for note in section["notes"]]
    return parts


def _table(frame: pd.DataFrame, caption: str) -> str:
    if frame.empty:
        return f"<p class='note'>{html.escape(caption)} (no rows yet)</p>"
    table = frame.to_html(index=False, escape=True, border=0, na_rep="-")
    return table.replace(">\n  <thead>", f">\n  <caption>{html.escape(caption)}</caption>\n  <thead>", 1)


def _figure(png: bytes, alt: str) -> str:
    return f"<figure><img alt='{html.escape(alt)}' src='{png_data_uri(png)}'></figure>"


def write_report(lake: Lakehouse, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report_data(lake)), encoding="utf-8")
    return out
