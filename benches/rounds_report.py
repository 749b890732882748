"""The rounds record (benches/results/rounds.json): each later round's RFT model against the
previous round's and against its own step-matched SFT control.

    python -m benches.gsm8k_controls rounds-report --results benches/results/gsm8k_controls \
        --json benches/results/rounds.json

It reads the runs of the controls bench run with `--rounds 2` (benches/gsm8k_controls.py): round
0's `rft_own` and `sft_matched`, round r's `rft_own_r<r>` (trained on the SFT data plus the
distinct paths of rounds 0..r, sampled from round r-1's RFT own model of seed 42) and its control
`sft_matched_r<r>` (the SFT data, as many optimizer steps). Each run gives its arm, round, seed,
steps, accuracy and Wilson interval; each contrast is tested per seed (exact McNemar) and over
the seeds (`paired_seed_test`), with Holm's adjustment over every test in the file.

Every function but `read_round_folder` and `write_rounds_report` is pure.
"""

from __future__ import annotations

import json
import os
import re

import pandas as pd

from benches.gsm8k_controls_report import (ALPHA, arm_summaries, contrast_tests, grade_table, read_run, run_entry,
                                           with_holm)

ROUND_RUN = re.compile(r"(?P<arm>rft_own|sft_matched)(?:_r(?P<round>\d+))?-s(?P<seed>\d+)\.json")
FAMILY = "every test in this file: each later round's RFT own against the previous round's and against its control"


def arm_round(arm: str) -> int:
    """`rft_own_r1` -> 1; a round-0 arm (`rft_own`) -> 0."""
    match = re.fullmatch(r"[a-z_]+?_r(\d+)", arm)
    return int(match.group(1)) if match else 0


def round_arm(base: str, round_: int) -> str:
    return base if round_ == 0 else f"{base}_r{round_}"


def round_contrasts(arms: set[str]) -> list[tuple[str, str]]:
    """(a, b) for each later round r whose arms have runs: RFT own of round r against round r-1's,
    and against round r's step-matched control."""
    pairs = []
    for round_ in sorted({arm_round(a) for a in arms} - {0}):
        rft = round_arm("rft_own", round_)
        pairs += [(rft, round_arm("rft_own", round_ - 1)), (rft, round_arm("sft_matched", round_))]
    return [(a, b) for a, b in pairs if a in arms and b in arms]


def build_rounds_report(records: list[dict], evals: dict[tuple[str, int], pd.Series],
                        filters: dict[int, dict], sampled_from: dict[int, str]) -> dict:
    """The rounds record as a JSON-able dict, from the runs and each run's graded answers."""
    runs = sorted(({**run_entry(r, evals[(r["arm"], int(r["seed"]))]), "round": arm_round(r["arm"])}
                   for r in records), key=lambda r: (r["round"], r["arm"], r["seed"]))
    arms = [{**summary, "round": arm_round(summary["arm"])} for summary in arm_summaries(runs)]
    arms.sort(key=lambda s: (s["round"], s["arm"]))
    pairs = round_contrasts({r["arm"] for r in runs})
    tests = with_holm([t for a, b in pairs for t in contrast_tests(a, b, grade_table(evals))])
    return {"runs": runs, "arms": arms, "contrasts": [f"{a} vs {b}" for a, b in pairs], "tests": tests,
            "holm_family": FAMILY, "alpha": ALPHA,
            "rounds": [{"round": r, "sampled_from": sampled_from.get(r), "filter": filters.get(r)}
                       for r in sorted(set(filters) | set(sampled_from))]}


def read_round_folder(folder: str) -> tuple[list[dict], dict[tuple[str, int], pd.Series], dict[int, dict], dict[int, str]]:
    """The RFT own and step-matched runs of every round, their greedy grades, and each round's
    filter counts and sampling source (filter.json / filter_r1.json, sample.json / sample_r1.json)."""
    records, evals, filters, sampled_from = [], {}, {}, {}
    for name in sorted(os.listdir(folder)):
        if ROUND_RUN.fullmatch(name):
            record, grades = read_run(folder, name)
            records.append(record)
            evals[(record["arm"], int(record["seed"]))] = grades
        side = re.fullmatch(r"(filter|sample)(?:_r(\d+))?\.json", name)
        if side:
            with open(os.path.join(folder, name)) as f:
                content = json.load(f)
            round_ = int(side.group(2) or 0)
            if side.group(1) == "filter":
                filters[round_] = content.get("filter", content)
            else:
                sampled_from[round_] = content.get("sampled_from")  # round 0's record predates the field
    return records, evals, filters, sampled_from


def write_rounds_report(report: dict, path: str, extra: dict) -> dict:
    record = {**report, **extra}
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record
