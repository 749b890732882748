"""The result table of a run as a JSON record, so docs quote a recorded run, never numbers typed in.

    record = run_record(lake, models, config_path, wall_s)   # funnel, arms over seeds, paired comparisons
    write_record(record, Path("benches/results/demo.json"))

`rft demo --record FILE` (and `rft run --record FILE`) write it; scripts/results_tables.py renders
the README's demo table from benches/results/demo.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from rft.evaluation.arms import arm_summaries, matched_comparisons
from rft.reporting.result_tables import funnel_table
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.run_results import GREEDY, funnel_counts, greedy_evaluations


def run_record(lake: Lakehouse, models: list[str], config: dict, wall_s: float | None) -> dict:
    counts, pools = funnel_counts(lake.table("verified_paths"), lake.table("distinct_paths"))
    funnel = funnel_table(counts, pools, models).drop(columns=["correct %"]).to_dict("records")
    evals = [r for r in _records(to_pandas(greedy_evaluations(lake.table("eval_results")))) if r["model"] in models]
    arms = []
    for (model, stage, training_set), summary in sorted(arm_summaries(evals).items()):
        rows = sorted((r for r in evals if (r["model"], r["stage"], r["training_set"]) == (model, stage, training_set)),
                      key=lambda r: r["seed"])
        arms.append({
            "model": model, "stage": stage, "training_set": training_set, "seeds": summary["seeds"],
            "n_test": [int(r["n_test"]) for r in rows], "n_correct": [int(r["n_correct"]) for r in rows],
            "accuracy": [float(r["accuracy"]) for r in rows],
            "ci_low": [float(r["ci_low"]) for r in rows], "ci_high": [float(r["ci_high"]) for r in rows],
            "mean": summary["mean"], "sd": summary["sd"], "n_steps": summary["n_steps"], "n_tokens": summary["n_tokens"],
        })
    return {
        "metric": GREEDY, "config": config, "wall_s": None if wall_s is None else round(wall_s, 1),
        "models": list(models), "funnel": [{k: (int(v) if k != "model" else v) for k, v in row.items()} for row in funnel],
        "arms": arms, "comparisons": matched_comparisons(evals),
    }


def _records(frame) -> list[dict]:
    return [{k: (None if not isinstance(v, str) and v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]


def write_record(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=_plain) + "\n")
    return path


def _plain(value):
    """numpy scalars from pandas rows as plain numbers."""
    return value.item() if hasattr(value, "item") else str(value)
