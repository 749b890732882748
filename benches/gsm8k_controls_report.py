"""The report of the controlled GSM8K runs (benches/gsm8k_controls.py): every run, each arm over its
seeds, and the paired contrasts between arms with Holm's adjustment over every test reported.

    python -m benches.gsm8k_controls report --results benches/results/gsm8k_controls \
        --json benches/results/gsm8k_rft.json

A results folder holds one `<arm>-s<seed>.json` per run (its train and eval summaries, the card)
with `<arm>-s<seed>.eval.parquet` beside it (its graded test answers), and `filter.json`,
`sample.json` for the RFT set. Whatever arms and seeds are there are reported: a contrast whose
two arms both have runs is tested, one missing an arm is left out (and the family shrinks).

Every function but `read_folder` and `write_report` is pure: runs in, dicts out.
"""

from __future__ import annotations

import json
import os
import re

import pandas as pd

from rft.evaluation.significance import holm_adjust, paired_seed_test, seed_summary, wilson_interval

EARLIER_KEY = "earlier_uncontrolled_run"  # the session-5 record this file held before the controls
RUN_FILE = re.compile(r"(?P<arm>[a-z_]+)-s(?P<seed>\d+)\.json")
# The order arms are shown in; an arm not listed here comes after these, by name.
ARM_ORDER = ("sft", "sft_matched", "rft_own", "union", "sft_matched_union")
ARM_DESCRIPTIONS = {
    "sft": "SFT: the 7,473 gold solutions, 3 epochs",
    "sft_matched": "SFT data only, for as many optimizer steps as the RFT own run of its seed",
    "rft_own": "RFT: SFT data + the model's own distinct correct paths",
    "union": "RFT: SFT data + the distinct correct paths of several models",
    "sft_matched_union": "SFT data only, for as many optimizer steps as the RFT union run of its seed",
}
ARM_LABELS = {"sft": "SFT", "sft_matched": "step-matched SFT", "rft_own": "RFT own", "union": "RFT union",
              "sft_matched_union": "SFT step-matched to union"}
RFT_ARMS = ("rft_own", "union")  # the arms whose data add sampled paths to the SFT data
ALPHA = 0.05


# --- runs and arms ---------------------------------------------------------------------------

def run_entry(record: dict, grades: pd.Series) -> dict:
    """One run's row: what it trained on and its greedy accuracy, counted from its graded answers."""
    correct, n = int(grades.sum()), len(grades)
    low, high = wilson_interval(correct, n)
    train = record.get("train", {})
    return {"arm": record["arm"], "seed": int(record["seed"]), "steps": train.get("n_steps"),
            "training_tokens": train.get("n_tokens"), "examples": train.get("n_examples"),
            "final_loss": train.get("final_loss"), "train_seconds": train.get("seconds"),
            "correct": correct, "n": n, "accuracy": correct / n, "ci_low": low, "ci_high": high,
            "device": record.get("device"), **({"matched_to": record["matched_to"]} if "matched_to" in record else {})}


def arm_order(arms) -> list[str]:
    known = [a for a in ARM_ORDER if a in arms]
    return known + sorted(set(arms) - set(known))


def label(arm: str) -> str:
    return ARM_LABELS.get(arm, arm)


def arm_summaries(runs: list[dict]) -> list[dict]:
    """Per arm: its seeds, steps and tokens (a range where seeds differ), and seed_summary of accuracy."""
    out = []
    for arm in arm_order({r["arm"] for r in runs}):
        mine = sorted((r for r in runs if r["arm"] == arm), key=lambda r: r["seed"])
        out.append({"arm": arm, "description": ARM_DESCRIPTIONS.get(arm), "seeds": [r["seed"] for r in mine],
                    "steps": _span(r["steps"] for r in mine),
                    "training_tokens": _span(r["training_tokens"] for r in mine),
                    "examples": _span(r["examples"] for r in mine),
                    "accuracy": seed_summary([r["accuracy"] for r in mine])})
    return out


def _span(values) -> list | None:
    """[low, high] of the seeds' values (equal when every seed has the same); None when unrecorded."""
    values = [v for v in values if v is not None]
    return [min(values), max(values)] if values else None


# --- contrasts -------------------------------------------------------------------------------

def matched_controls(runs: list[dict]) -> dict[str, str]:
    """control arm -> the arm it is step-matched to, read from the runs' own `matched_to` ('rft_own-s42')."""
    controls = {}
    for r in runs:
        if "matched_to" in r:
            controls[r["arm"]] = RUN_FILE.fullmatch(r["matched_to"] + ".json")["arm"]
    return controls


def contrast_pairs(arms: set[str], controls: dict[str, str]) -> list[tuple[str, str]]:
    """The comparisons (a, b) whose arms both have runs: each RFT arm against SFT, against its
    step-matched control and (union) against RFT own; each step-matched control against SFT."""
    pairs = []
    for rft in RFT_ARMS:
        if rft == "union":
            pairs.append(("union", "rft_own"))
        pairs.append((rft, "sft"))
        for control in sorted(c for c, matched in controls.items() if matched == rft):
            pairs += [(rft, control), (control, "sft")]
    return [(a, b) for a, b in pairs if a in arms and b in arms]


def contrast_tests(a: str, b: str, grades: dict[tuple[str, int], list[int]]) -> list[dict]:
    """a against b on the same questions: per seed both arms have, seed s against seed s (exact
    McNemar), then every seed of a against every seed of b (`paired_seed_test`, seeds as replicates).
    Two one-seed arms of the same seed get no pooled test: it would be their McNemar test again,
    counted twice in Holm's family."""
    seeds_a = sorted(s for arm, s in grades if arm == a)
    seeds_b = sorted(s for arm, s in grades if arm == b)
    tests = []
    for seed in sorted(set(seeds_a) & set(seeds_b)):
        x, y = grades[(a, seed)], grades[(b, seed)]
        result = paired_seed_test([x], [y])  # one seed per arm: the exact McNemar test
        only_a, only_b = sum(p and not q for p, q in zip(x, y)), sum(q and not p for p, q in zip(x, y))
        tests.append(_test(a, b, "seed", [seed], [seed], result, "exact McNemar, seed s against seed s",
                           only_a=only_a, only_b=only_b))
    if len(seeds_a) == len(seeds_b) == 1 and seeds_a == seeds_b:
        return tests
    pooled = paired_seed_test([grades[(a, s)] for s in seeds_a], [grades[(b, s)] for s in seeds_b])
    tests.append(_test(a, b, "pooled", seeds_a, seeds_b, pooled, pooled["method"]))
    return tests


def _test(a, b, scope, seeds_a, seeds_b, result, method, **counts) -> dict:
    return {"a": a, "b": b, "scope": scope,
            "seeds_a": seeds_a, "seeds_b": seeds_b, "n_questions": result["n_questions"],
            "accuracy_a": result["accuracy_a"]["mean"], "accuracy_b": result["accuracy_b"]["mean"],
            "difference": result["diff"], "ci_low": result["ci_low"], "ci_high": result["ci_high"],
            **counts, "p_value": result["p_value"], "method": method}


def with_holm(tests: list[dict]) -> list[dict]:
    """Each test with its Holm-adjusted p-value, the family being every test in `tests`."""
    adjusted = holm_adjust([t["p_value"] for t in tests])
    return [{**t, "p_holm": p} for t, p in zip(tests, adjusted)]


def grade_table(evals: dict[tuple[str, int], pd.Series]) -> dict[tuple[str, int], list[int]]:
    """(arm, seed) -> 0/1 per test question, every run in the same question order."""
    questions = None
    for key, grades in evals.items():
        if questions is None:
            questions = sorted(grades.index)
        elif set(grades.index) != set(questions):
            raise ValueError(f"{key[0]}-s{key[1]} is not graded on the same test questions as the other runs")
    return {key: [int(bool(v)) for v in grades.reindex(questions)] for key, grades in evals.items()}


# --- the finding -----------------------------------------------------------------------------

def _headline(tests: list[dict], a: str, b: str) -> dict | None:
    """A contrast's test over all its seeds: the pooled one, or the McNemar test of two one-seed arms."""
    mine = [t for t in tests if (t["a"], t["b"]) == (a, b)]
    pooled = [t for t in mine if t["scope"] == "pooled"]
    if pooled:
        return pooled[0]
    return mine[0] if len(mine) == 1 else None


def _headlines(tests: list[dict]) -> list[dict]:
    pairs = list(dict.fromkeys((t["a"], t["b"]) for t in tests))
    return [h for h in (_headline(tests, a, b) for a, b in pairs) if h]


def _arm(arms: list[dict], name: str) -> dict | None:
    return next((s for s in arms if s["arm"] == name), None)


def _verdict(t: dict) -> str:
    """One contrast in words: a direction only where Holm's p is below alpha, else no difference shown."""
    interval = f"{100 * t['difference']:+.1f} points [{100 * t['ci_low']:+.1f}, {100 * t['ci_high']:+.1f}]"
    p = f"p = {t['p_value']:.2g}, Holm p = {t['p_holm']:.2g}"
    if t["p_holm"] < ALPHA:
        word = "above" if t["difference"] > 0 else "below"
        size = f"{100 * abs(t['difference']):.1f} points"
        return f"{label(t['a'])} scores {size} {word} {label(t['b'])} ({interval}, {p})"
    return f"{label(t['a'])} against {label(t['b'])}: no difference shown ({interval}, {p})"


def _per_seed(tests: list[dict]) -> str | None:
    """How many per-seed tests hold after Holm, naming those that do not."""
    seeds = [t for t in tests if t["scope"] == "seed"]
    if not seeds:
        return None
    weak = [f"{label(t['a'])} against {label(t['b'])}, seed {t['seeds_a'][0]} "
            f"({100 * t['difference']:+.1f} points, Holm p = {t['p_holm']:.2g})"
            for t in seeds if t["p_holm"] >= ALPHA]
    text = (f"Per seed (exact McNemar, seed s against seed s), {len(seeds) - len(weak)} of {len(seeds)} "
            f"tests have Holm p < {ALPHA}")
    return text + (f"; not: {'; '.join(weak)}." if weak else ".")


def finding(arms: list[dict], tests: list[dict]) -> str:
    """The result in one paragraph, worded from the numbers: each arm's mean, then each pooled contrast."""
    means = "; ".join(f"{label(s['arm'])} {100 * s['accuracy']['mean']:.1f}% ({_seeds(s)})" for s in arms)
    contrasts = _headlines(tests)
    lines = [f"Greedy GSM8K test accuracy, mean over training seeds: {means}."]
    if contrasts:
        lines.append("Pooled over seeds (paired on the same questions; two one-seed arms by their McNemar "
                     f"test; Holm over all {len(tests)} tests of this report): "
                     + "; ".join(_verdict(t) for t in contrasts) + ".")
    per_seed = _per_seed(tests)
    if per_seed:
        lines.append(per_seed)
    own_vs_matched, matched_vs_sft = _headline(tests, "rft_own", "sft_matched"), _headline(tests, "sft_matched", "sft")
    if own_vs_matched and matched_vs_sft:
        if own_vs_matched["p_holm"] < ALPHA and own_vs_matched["difference"] > 0:
            if matched_vs_sft["p_holm"] >= ALPHA:
                more = "is not shown to differ from plain SFT"
            else:
                more = "scores below plain SFT" if matched_vs_sft["difference"] < 0 else "scores above plain SFT"
            lines.append("RFT on its own paths beats SFT trained for the same number of steps, so the extra "
                         f"optimizer steps alone do not explain its gain (the step-matched control {more}).")
        else:
            lines.append("RFT on its own paths is not shown to beat SFT trained for the same number of steps: "
                         "at this size its gain cannot be told apart from the effect of more training.")
    union_vs_own = _headline(tests, "union", "rft_own")
    if union_vs_own:
        if union_vs_own["p_holm"] < ALPHA:
            word = "raises" if union_vs_own["difference"] > 0 else "lowers"
            lines.append(f"Training on the union of several models' paths {word} accuracy against the model's own "
                         "paths alone.")
        else:
            lines.append("Training on the union of several models' paths is not shown to differ from the model's "
                         "own paths alone.")
    fewest = min((len(s["seeds"]) for s in arms), default=0)
    lines.append(f"Caveats: {fewest if fewest > 1 else 'one'} seed{'s' if fewest > 1 else ''} per arm at the fewest, "
                 "one base model, one draw of samples for the RFT set.")
    return " ".join(lines)


def _seeds(summary: dict) -> str:
    n = len(summary["seeds"])
    sd = summary["accuracy"]["sd"]
    return f"{n} seed{'s' if n > 1 else ''}" + ("" if sd is None else f", sd {100 * sd:.1f}")


# --- the record ------------------------------------------------------------------------------

FAMILY = ("every test in `tests`: for each contrast, the exact McNemar test of each seed both arms have "
          "(seed s against seed s) and the pooled sign-flip test over all seeds (none for two one-seed arms "
          "of the same seed: it would repeat their McNemar test); Holm's step-down adjustment over all of "
          "them together")


def build_report(records: list[dict], evals: dict[tuple[str, int], pd.Series], filter_counts: dict | None,
                 sampling: dict | None, union_filter: dict | None = None) -> dict:
    """The report as JSON-able dict, from the run records and each run's graded answers."""
    runs = sorted((run_entry(r, evals[(r["arm"], int(r["seed"]))]) for r in records),
                  key=lambda r: (arm_order({x["arm"] for x in records}).index(r["arm"]), r["seed"]))
    arms = arm_summaries(runs)
    grades = grade_table(evals)
    pairs = contrast_pairs({r["arm"] for r in runs}, matched_controls(runs))
    tests = with_holm([t for a, b in pairs for t in contrast_tests(a, b, grades)])
    return {"finding": finding(arms, tests), "runs": runs, "arms": arms,
            "contrasts": [f"{a} vs {b}" for a, b in pairs], "tests": tests, "holm_family": FAMILY,
            "alpha": ALPHA, "filter": filter_counts, "sampling": sampling,
            **({"union_filter": union_filter} if union_filter else {})}


def sampling_settings(sample: dict | None, sampled_from: str, base_seed: int) -> dict | None:
    """What the RFT set was sampled with, as the sample step recorded it."""
    if not sample:
        return None
    s = sample["sample"]
    return {"sampled_from": sampled_from, "k": s.get("k"), "temperature": s.get("temperature"),
            "base_seed": base_seed, "backend": s.get("backend"), "n_questions": s.get("n_questions"),
            "n_samples": s.get("n_rows"), "generated_tokens": s.get("generated_tokens"),
            "device": sample.get("device")}


def read_run(folder: str, name: str) -> tuple[dict, pd.Series]:
    """One run's record (`<arm>-s<seed>.json`) and its greedy grades, question id -> correct."""
    with open(os.path.join(folder, name)) as f:
        record = json.load(f)
    rows = pd.read_parquet(os.path.join(folder, name.replace(".json", ".eval.parquet")),
                           columns=["question_id", "metric", "is_correct"])
    greedy = rows[rows["metric"] == "maj1@1"]
    return record, greedy.set_index("question_id")["is_correct"].astype(bool)


def read_folder(folder: str) -> tuple[list[dict], dict[tuple[str, int], pd.Series], dict | None, dict | None]:
    """The run records with their greedy grades, and filter.json's counts and sample.json, from a results folder."""
    records, evals = [], {}
    for name in sorted(os.listdir(folder)):
        if RUN_FILE.fullmatch(name):
            record, grades = read_run(folder, name)
            records.append(record)
            evals[(record["arm"], int(record["seed"]))] = grades
    filter_record = read_side(folder, "filter")
    return records, evals, filter_record and filter_record["filter"], read_side(folder, "sample")


def read_side(folder: str, unit: str) -> dict | None:
    """A seedless unit's record (`filter.json`, `sample.json`, `filter_union.json`), None when absent."""
    path = os.path.join(folder, f"{unit}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_report(report: dict, path: str, extra: dict) -> dict:
    """`report` into the JSON at `path`, keeping the earlier uncontrolled run's record held there."""
    kept = {}
    if os.path.exists(path):
        with open(path) as f:
            kept = {k: v for k, v in json.load(f).items() if k == EARLIER_KEY}
    record = {**report, **extra, **kept}
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record
