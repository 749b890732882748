"""The results tables of the docs, generated from the records in benches/results/*.json.

A table sits between two marker comments in a Markdown file (docs/*.md or README.md):

    <!-- results:gsm8k_arms -->           the table's name; some take a run: results:scaling gsm8k-gpu
    ...                                    replaced by what the record says, never edited by hand
    <!-- /results:gsm8k_arms -->

    python scripts/results_tables.py           # rewrite every stale table
    python scripts/results_tables.py --check   # exit 1, naming the stale files (tests/pure runs this)

Every number comes from a JSON record; a table shows a blank where its record holds none. A table
of p-values shows Holm's adjusted p beside each raw one, its family named in the caption under it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project's own statistics, not a copy of them
    sys.path.insert(0, str(ROOT))

from rft.evaluation.significance import holm_adjust  # noqa: E402

RECORDS = "benches/results"
EARLIER = "earlier_uncontrolled_run"  # gsm8k_rft.json's key for the session-5 run (one seed, no control)
MARKER = re.compile(r"<!-- results:(\w+)(?: ([\w.-]+))? -->")


# --- formatting -------------------------------------------------------------------------------

def table(headers: list[str], rows: list[list], right: set[int] = frozenset()) -> list[str]:
    """A Markdown table; columns whose index is in `right` are right-aligned (numbers)."""
    rule = ["---:" if i in right else "---" for i in range(len(headers))]
    return [_row(headers), _row(rule), *(_row(["" if c is None else str(c) for c in r]) for r in rows)]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def count(n) -> str:
    return "" if n is None else f"{n:,.0f}"


def share(p: float, low: float, high: float) -> str:
    """A proportion in percent with its 95% interval: 32.8 [30.3, 35.3]."""
    return f"{100 * p:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def accuracy(correct: int, n: int, low: float, high: float) -> str:
    """From the counts, not the record's rounded share: 428 / 1,319 is 32.4, where 0.3245 would print 32.5."""
    return share(correct / n, low, high)


def points(d: float) -> str:
    return f"{100 * d:+.1f}"


def p_value(p: float) -> str:
    text = f"{p:.2g}"
    return text if "." in text or "e" in text else text + ".0"


def number(x: float) -> str:
    return f"{x:.3g}"


def cell_label(varies: str, x) -> str:
    if varies == "fraction":
        return str(Fraction(x).limit_denominator(1024))
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{varies} = {x}" if varies == "k" else str(x)


# --- the tables -------------------------------------------------------------------------------

def holm_caption(n: int, family: str = "the table") -> str:
    """Says which tests one Holm adjustment ran over: a p-value means little without its family."""
    return (f"*Holm p: Holm's step-down adjustment over the family of all {n} tests in {family}; "
            "the raw p is each test on its own.*")


def gsm8k_finding(record: dict, run: str | None) -> list[str]:
    """The controlled runs' finding, as the report worded it from the numbers."""
    return [f"**Finding.** {record['finding']}"]


def _span(values: list | None) -> str:
    if not values:
        return ""
    low, high = values
    return count(low) if low == high else f"{count(low)} to {count(high)}"


def gsm8k_arms(record: dict, run: str | None) -> list[str]:
    """Each arm of the controlled runs over its training seeds, and every seed's accuracy."""
    rows = []
    for a in record["arms"]:
        seeds = [r for r in record["runs"] if r["arm"] == a["arm"]]
        sd = a["accuracy"]["sd"]
        per_seed = "; ".join(f"s{r['seed']}: {accuracy(r['correct'], r['n'], r['ci_low'], r['ci_high'])}"
                             for r in seeds)
        rows.append([a["arm"], a["description"], len(a["seeds"]), _span(a["steps"]), _span(a["training_tokens"]),
                     f"{100 * a['accuracy']['mean']:.1f}", "" if sd is None else f"{100 * sd:.1f}", per_seed])
    return table(["arm", "trains on", "seeds", "steps", "training tokens", "mean accuracy %", "sd (points)",
                  "per seed: accuracy % [95% Wilson]"], rows, {2, 3, 4, 5, 6})


def gsm8k_contrasts(record: dict, run: str | None) -> list[str]:
    """Every paired test of the controlled runs, with the Holm-adjusted p the report computed."""
    rows = []
    for t in record["tests"]:
        pooled = t["scope"] == "pooled"
        seeds = (f"all: {_seed_list(t['seeds_a'])} vs {_seed_list(t['seeds_b'])}" if pooled
                 else f"{t['seeds_a'][0]} vs {t['seeds_b'][0]}")
        test = "sign-flip, seed-averaged" if pooled else "exact McNemar"
        rows.append([f"{t['a']} vs {t['b']}", seeds, test, t.get("only_a"), t.get("only_b"),
                     f"{points(t['difference'])} [{points(t['ci_low'])}, {points(t['ci_high'])}]",
                     p_value(t["p_value"]), p_value(t["p_holm"])])
    return [*table(["comparison", "seeds", "test", "only the first right", "only the second right",
                    "difference (points) [95% CI]", "p", "Holm p"], rows, {3, 4, 5, 6, 7}),
            "", holm_caption(len(rows), "the table (the record's `tests`; see its `holm_family`)")]


def _seed_list(seeds: list[int]) -> str:
    return ", ".join(str(s) for s in seeds)


def gsm8k_sampling(record: dict, run: str | None) -> list[str]:
    """How the RFT set of the controlled runs was sampled and filtered."""
    s, f = record["sampling"], record["filter"]
    return measures({**s, **f, "correct_share": f"{100 * f['correct'] / f['sampled']:.1f}%"}, [
        ("sampled from (model, seed)", "sampled_from"), ("k per question, temperature", "k", "temperature"),
        ("questions, samples", "n_questions", "sampled"), ("correct (final answer and every annotation)",
                                                           "correct", "correct_share"),
        ("distinct (one per equation list and question)", "distinct"), ("device", "device")])


def gsm8k_union(record: dict, run: str | None) -> list[str]:
    """The union set of the controlled runs: each model's samples, correct paths, and the distinct
    paths of the union that are its (a path both models found counts once, for one of them)."""
    u = record["union_filter"]
    rows = [[model, count(m["sampled"]), count(m["correct"]), count(m["distinct_chosen"])]
            for model, m in u["models"].items()]
    rows.append(["union", count(sum(m["sampled"] for m in u["models"].values())), count(u["correct"]),
                 count(u["distinct"])])
    return table(["model", "sampled", "correct", "distinct paths in the union set"], rows, {1, 2, 3})


def gsm8k_earlier(record: dict, run: str | None) -> list[str]:
    """Greedy test accuracy of every checkpoint of the session-5 two-model run (one seed, no control)."""
    rows = [[e["model"], e["stage"].upper(), _training_set(e["training_set"]), count(e["distinct_paths"]),
             f"{e['correct']:,} / {e['n_test']:,}", accuracy(e["correct"], e["n_test"], e["ci_low"], e["ci_high"])]
            for e in record[EARLIER]["entries"]]
    return table(["model", "stage", "training set", "distinct paths", "correct", "accuracy % [95% CI]"], rows, {3, 4})


def _training_set(name: str) -> str:
    return {"sft": "SFT data (GSM8K train)", "union": "SFT data + union of both models' paths"}.get(
        name, "SFT data + own paths" if name.startswith("own:") else name)


def gsm8k_earlier_paired(record: dict, run: str | None) -> list[str]:
    """Each RFT checkpoint of the session-5 run against its model's SFT (exact McNemar), with Holm."""
    paired = record[EARLIER]["paired"]
    holm = holm_adjust([c["mcnemar_p"] for c in paired])
    rows = [[c["model"], "own" if c["training_set"].startswith("own:") else c["training_set"], points(c["gain"]),
             c["only_rft_correct"], c["only_sft_correct"], p_value(c["mcnemar_p"]), p_value(h)]
            for c, h in zip(paired, holm)]
    return [*table(["model", "RFT set", "gain (points)", "only RFT right", "only SFT right", "p", "Holm p"], rows,
                   {2, 3, 4, 5, 6}), "", holm_caption(len(rows))]


def gsm8k_earlier_filter(record: dict, run: str | None) -> list[str]:
    """Sampled, correct and distinct paths per pool of the session-5 run, and the rows of each RFT set."""
    f = record[EARLIER]["filter"]
    distinct = {d["pool"]: d["distinct"] for d in f["distinct"]}
    sets = f.get("sets", {})
    rows = [[pool, count(v["sampled"]), count(v["correct"]), f"{100 * v['correct'] / v['sampled']:.1f}",
             count(distinct.get(pool)), count(sets.get(pool, {}).get("rows"))]
            for v in f["verified"] for pool in [f"own:{v['model']}"]]
    rows.append(["union", None, None, None, count(distinct.get("union")), count(sets.get("union", {}).get("rows"))])
    return table(["pool", "sampled", "correct", "correct %", "distinct", "RFT set rows"], rows, {1, 2, 3, 4, 5})


def _entries(record: dict, run: str | None, studies=None, exclude=()) -> list[dict]:
    return [e for e in record["entries"] if (run is None or e.get("run") == run)
            and (studies is None or e["study"] in studies) and e["study"] not in exclude]


def scaling(record: dict, run: str | None) -> list[str]:
    """One row per study cell: what it trained on and its greedy test accuracy."""
    rows = []
    for e in _entries(record, run, exclude=("pretrain_loss",)):
        for i, x in enumerate(e["x"]):
            rows.append([e["study"], e["model"], cell_label(e["varies"], x), count(_at(e, "paths", i)),
                         count(_at(e, "distinct_paths", i)), count(_at(e, "n_sft_rows", i)),
                         f"{e['correct'][i]:,} / {e['n'][i]:,}", _accuracy_at(e, i)])
    return table(["study", "model", "cell", "paths added", "distinct paths", "SFT rows", "correct",
                  "accuracy % [95% CI]"], rows, {3, 4, 5, 6})


def _accuracy_at(entry: dict, i: int) -> str:
    return accuracy(entry["correct"][i], entry["n"][i], entry["ci_low"][i], entry["ci_high"][i])


def _at(entry: dict, key: str, i: int):
    values = entry.get(key)
    return values[i] if values else None


def scaling_fits(record: dict, run: str | None) -> list[str]:
    """The laws fitted by least squares (rft/studies/): accuracy against each x, with R^2."""
    rows = []
    for e in _entries(record, run):
        for x, fit in e["fits"].items():
            if "b" in fit:
                term = f"ln({_x_name(x)})" if fit["log_x"] else _x_name(x)
                sign = "+" if fit["b"] >= 0 else "-"
                law = f"{number(fit['a'])} {sign} {number(abs(fit['b']))} {term}"
                r = f"{fit['pearson_r']:.2f}" if "pearson_r" in fit else None
                who = f"all models, {e['stage'].upper()}" if "stage" in e else e["model"]
                rows.append([e["study"], who, law, f"{fit['r2']:.3f}", r, fit["n"]])
    return table(["study", "model", "accuracy =", "R^2", "Pearson r", "points"], rows, {3, 4, 5})


def _x_name(key: str) -> str:
    return {"n_sft_rows": "SFT rows", "distinct_paths": "distinct paths", "log_params": "parameters"}.get(key, key)


def scaling_contrasts(record: dict, run: str | None) -> list[str]:
    """Differences between arms and the paired test on the same questions, with Holm over the table."""
    runs = [record["runs"][run]] if run else record["runs"].values()
    paired = [p for r in runs for p in r.get("paired", [])]
    holm = holm_adjust([p["mcnemar_p"] for p in paired])
    rows = [[p["study"], p["model"], f"{p['a']} vs {p['b']}", points(p["difference"]), p["only_a"], p["only_b"],
             p_value(p["mcnemar_p"]), p_value(h)] for p, h in zip(paired, holm)]
    return [*table(["study", "model", "comparison", "difference (points)", "only the first right",
                    "only the second right", "p (exact McNemar)", "Holm p"], rows, {3, 4, 5, 6, 7}),
            "", holm_caption(len(rows))]


def pretrain_loss(record: dict, run: str | None) -> list[str]:
    """Each base model's held-out loss next to its SFT and RFT (own paths) accuracy."""
    by_stage = {e["stage"]: e for e in _entries(record, run, studies=("pretrain_loss",))}
    sft = by_stage.get("sft") or next(iter(by_stage.values()))
    rows = []
    for i, model in enumerate(sft["models"]):
        stages = [_accuracy_at(s, i) if s else None for s in (by_stage.get("sft"), by_stage.get("rft"))]
        rows.append([model, count(sft["n_params"][i]), count(sft["n_tokens"][i]), f"{sft['x'][i]:.3f}",
                     f"{sft['nats_per_byte'][i]:.3f}", *stages])
    return table(["model", "parameters", "held-out tokens", "nats per token", "nats per byte",
                  "SFT accuracy %", "RFT (own paths) accuracy %"], rows, {1, 2, 3, 4})


def sampling(record: dict, run: str | None) -> list[str]:
    """Generated tokens per second, every engine of one run on the same card."""
    rows = []
    for r in record["runs"]:
        for e in r["entries"]:
            best = e["vllm_best_config"] and f"{count(e['vllm_best_tokens_per_s'])} ({e['vllm_best_config']})"
            ratio = e["ours_vs_vllm_defaults"] and f"{e['ours_vs_vllm_defaults']}x"
            rows.append([r["run"], r["device"], count(e["n_sequences"]), count(e["baseline_tokens_per_s"]),
                         count(e["vllm_tokens_per_s"]), best, count(e["ours_tokens_per_s"]), e["ours_config"], ratio])
    return table(["run", "device", "sequences", "`generate`", "vLLM defaults", "vLLM best (config)",
                  "static engine", "static engine config", "static / vLLM defaults"], rows, {2, 3, 4, 5, 6, 8})


def sampling_real(record: dict, run: str | None) -> list[str]:
    """The real workload (EOS honoured): useful tokens/s of every engine of one run, and the ratios."""
    rows = []
    for r in record["real_workload"]["runs"]:
        ratio = lambda key: r[key] and f"{r[key]}x"  # noqa: E731
        share = r["ours_share_of_fixed_length"] and f"{100 * r['ours_share_of_fixed_length']:.0f}%"
        rows.append([r["run"], r["model"].removesuffix(".gguf"), r["device"], count(r["baseline_tokens_per_s"]),
                     count(r["vllm_tokens_per_s"]), count(r["before_tokens_per_s"]), count(r["ours_tokens_per_s"]),
                     count(r["ours_fixed_length_tokens_per_s"]), ratio("ours_vs_vllm_defaults"), share,
                     ratio("ours_vs_before")])
    return table(["run", "model", "device", "`generate`", "vLLM defaults", "static engine before",
                  "static engine", "its fixed-length figure", "static / vLLM defaults", "share of fixed length",
                  "after / before"], rows, {3, 4, 5, 6, 7, 8, 9, 10})


def sampling_real_profile(record: dict, run: str | None) -> list[str]:
    """Where the static engine's time went on the real workload and at fixed length (its profile)."""
    rows = []
    for r in record["real_workload"]["runs"]:
        for label, parts, ideal in (("real workload", r.get("ours_breakdown"), r.get("ideal_share_of_fixed_length")),
                                    ("fixed length", r.get("fixed_length_breakdown"), None)):
            if not parts:
                continue
            rows.append([r["run"], r["model"].removesuffix(".gguf"), label, f"{parts['prefill_seconds']:.2f}",
                         parts["prefill_calls"], f"{100 * parts['prefill_share']:.0f}%",
                         f"{parts['decode_seconds']:.2f}", count(parts["slot_steps"]),
                         f"{100 * parts['useful_share_of_slot_steps']:.1f}%", parts["microseconds_per_slot_step"],
                         ideal and f"{100 * ideal:.0f}%"])
    return table(["run", "model", "workload", "prefill s", "prefill calls", "prefill share", "decode and host s",
                  "slot-steps", "useful share of slot-steps", "µs per slot-step",
                  "ideal share of fixed length"], rows, {3, 4, 5, 6, 7, 8, 9, 10})


def training(record: dict, run: str | None) -> list[str]:
    """Full fine-tuning throughput at each micro-batch size."""
    rows = [[r["model"], r["device"], r["method"], r["micro_batch_size"], r["global_batch_size"],
             count(r["tokens_per_s"]), f"{r['achieved_tflops']:.1f}", f"{100 * r['mfu']:.1f}%",
             f"{r['peak_gpu_gb']:.0f}"] for r in record["runs"]]
    return table(["model", "device", "method", "micro-batch", "global batch", "tokens/s", "TFLOP/s", "MFU",
                  "peak GPU GB"], rows, {3, 4, 5, 6, 7, 8})


def verify_dedupe(record: dict, run: str | None) -> list[str]:
    """Verification and dedup of synthetic paths: the published procedure against the Spark jobs."""
    return measures(record, [
        ("paths (first size)", "n_paths"),
        ("baseline, one process: paths/s, peak RSS MB", "baseline_paths_per_s", "baseline_peak_rss_mb"),
        ("Spark jobs: paths/s, peak RSS MB", "ours_paths_per_s", "ours_peak_rss_mb"),
        ("speed-up (times)", "speedup"),
        ("counted from rft.sampled_paths: paths/s, speed-up (times)", "ours_from_sampled_paths_per_s",
         "speedup_from_sampled_paths"),
        ("largest size: paths, seconds, peak RSS MB", "largest_n_paths", "ours_largest_seconds",
         "ours_largest_peak_rss_mb"),
        ("machine, Spark master", "machine", "master"), ("date", "date")])


def reliability(record: dict, run: str | None) -> list[str]:
    """What the fault tests injected and found, and the fuzzing figures of the same session."""
    return measures(record, [
        ("faults injected, survived", "faults_injected", "faults_survived"),
        ("tables, rows compared with the clean run's", "tables_compared", "rows_compared"),
        ("rows lost, duplicated, differing", "rows_lost", "rows_duplicated", "rows_differing"),
        ("fuzzing inputs, failures", "fuzz_inputs", "fuzz_failures")])


def measures(record: dict, rows: list[tuple[str, ...]]) -> list[str]:
    """A two-column table of a flat record: a label, then the values of its fields."""
    return table(["measure", "value"], [[label, ", ".join(_value(record[f]) for f in fields)]
                                        for label, *fields in rows])


def _value(v) -> str:
    return count(v) if isinstance(v, int) else str(v)


def faults(record: dict, run: str | None) -> list[str]:
    """Every injected fault, with the write or process it hit."""
    rows = [[f"`{f['test']}`", f["kind"], f["target"], "yes" if f["survived"] else "**no**"]
            for f in record["faults"]]
    return table(["test", "fault", "target", "survived"], rows)


def demo(record: dict, run: str | None) -> list[str]:
    """`rft demo`'s result table: paths per model, greedy accuracy per arm (SFT, RFT, step-matched SFT)."""
    arms = {(a["model"], a["stage"], a["training_set"]): a for a in record["arms"]}
    columns = [("SFT", "sft", lambda m: "sft"), ("RFT own", "rft", lambda m: f"own:{m}"),
               ("SFT matched own", "sft_matched", lambda m: f"own:{m}"), ("RFT union", "rft", lambda m: "union"),
               ("SFT matched union", "sft_matched", lambda m: "union")]
    columns = [c for c in columns if any((m, c[1], c[2](m)) in arms for m in record["models"])]
    rows = []
    for f in record["funnel"]:
        model = f["model"]
        cells = [_arm(arms.get((model, stage, name(model)))) if model in record["models"] else ""
                 for _, stage, name in columns]
        rows.append([model, count(f["sampled"]), count(f["correct"]), count(f["distinct"]), *cells])
    return table(["model", "sampled", "correct", "distinct", *(f"{c[0]} acc %" for c in columns)], rows, {1, 2, 3})


def _arm(arm: dict | None) -> str:
    """One seed: accuracy [95% Wilson interval]; several: mean ± sd over seeds."""
    if arm is None:
        return "-"
    if len(arm["seeds"]) == 1:
        return accuracy(arm["n_correct"][0], arm["n_test"][0], arm["ci_low"][0], arm["ci_high"][0])
    return f"{100 * arm['mean']:.1f} ± {100 * arm['sd']:.1f} ({len(arm['seeds'])} seeds)"


def demo_paired(record: dict, run: str | None) -> list[str]:
    """`rft demo`'s RFT arms against their step-matched SFT control and against SFT (paired over seeds)."""
    arms = {(a["model"], a["stage"], a["training_set"]): a for a in record["arms"]}
    rows = []
    for c in record["comparisons"]:
        versus = (c["model"], c["versus"], c["training_set"] if c["versus"] == "sft_matched" else "sft")
        steps = [arms[(c["model"], "rft", c["training_set"])]["n_steps"], arms[versus]["n_steps"]]
        rows.append([c["model"], "own" if c["training_set"].startswith("own:") else c["training_set"],
                     "SFT matched" if c["versus"] == "sft_matched" else "SFT",
                     " vs ".join("/".join(str(n) for n in s) for s in steps),
                     f"{points(c['diff'])} [{points(c['ci_low'])}, {points(c['ci_high'])}]",
                     p_value(c["p_value"]), p_value(c["p_holm"])])
    return table(["model", "RFT set", "vs", "steps", "change (points) [95% CI]", "p", "p (Holm)"], rows, {5, 6})


TABLES = {  # name -> (record, renderer)
    "demo": ("demo.json", demo), "demo_paired": ("demo.json", demo_paired),
    "gsm8k_finding": ("gsm8k_rft.json", gsm8k_finding), "gsm8k_arms": ("gsm8k_rft.json", gsm8k_arms),
    "gsm8k_contrasts": ("gsm8k_rft.json", gsm8k_contrasts), "gsm8k_sampling": ("gsm8k_rft.json", gsm8k_sampling),
    "gsm8k_union": ("gsm8k_rft.json", gsm8k_union), "gsm8k_earlier": ("gsm8k_rft.json", gsm8k_earlier),
    "gsm8k_earlier_paired": ("gsm8k_rft.json", gsm8k_earlier_paired),
    "gsm8k_earlier_filter": ("gsm8k_rft.json", gsm8k_earlier_filter), "scaling": ("scaling.json", scaling),
    "scaling_fits": ("scaling.json", scaling_fits), "scaling_contrasts": ("scaling.json", scaling_contrasts),
    "pretrain_loss": ("scaling.json", pretrain_loss), "sampling": ("sampling.json", sampling),
    "sampling_real": ("sampling.json", sampling_real),
    "sampling_real_profile": ("sampling.json", sampling_real_profile),
    "training": ("training.json", training), "verify_dedupe": ("verify_dedupe.json", verify_dedupe),
    "reliability": ("reliability.json", reliability), "faults": ("reliability.json", faults),
}


# --- the docs ---------------------------------------------------------------------------------

def render(name: str, run: str | None, root: Path) -> list[str]:
    if name not in TABLES:
        raise ValueError(f"unknown results table {name!r}; known: {', '.join(sorted(TABLES))}")
    file, renderer = TABLES[name]
    path = root / RECORDS / file
    record = json.loads(path.read_text())
    try:
        lines = renderer(record, run)
    except KeyError as missing:
        raise ValueError(f"{RECORDS}/{file} has no field {missing} that table {name!r} reads") from None
    return ["", *lines, "", f"*Generated by `scripts/results_tables.py` from `{RECORDS}/{file}`.*", ""]


def regenerate(text: str, root: Path, where: str = "") -> str:
    """`text` with every marked table rendered anew from its record."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        out.append(lines[i])
        found = MARKER.fullmatch(lines[i].strip())
        i += 1
        if not found:
            continue
        name, run = found.groups()
        close = f"<!-- /results:{name} -->"
        end = next((j for j in range(i, len(lines)) if lines[j].strip() == close), None)
        if end is None:
            raise ValueError(f"{where}:{i}: {close} missing after <!-- results:{name} -->")
        out += render(name, run, root)
        i = end
    return "\n".join(out)


def documents(root: Path) -> list[Path]:
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.exists()]


def stale(root: Path = ROOT, write: bool = False) -> list[Path]:
    """The documents whose tables differ from their records; rewritten when `write`."""
    changed = []
    for doc in documents(root):
        text = doc.read_text()
        new = regenerate(text, root, str(doc.relative_to(root)))
        if new != text:
            changed.append(doc)
            if write:
                doc.write_text(new)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a table is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    args = parser.parse_args(argv)
    try:
        changed = stale(args.root, write=not args.check)
    except (ValueError, OSError) as error:
        print(f"results_tables: {error}", file=sys.stderr)
        return 2
    for doc in changed:
        verb = "stale (run python scripts/results_tables.py)" if args.check else "rewritten"
        print(f"{doc.relative_to(args.root)}: {verb}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
