"""The baseline: the published verify-and-dedup procedure, straightforwardly, in one Python process.

Per question, in input order: verify every path (the project's safe checker without its
caches, since the published script's `eval` is not an option), then keep one path per equation
list; when a later path repeats a kept list, it replaces the kept one if its summed Levenshtein
distance to the other kept paths of the question is larger. That is the published rule,
including its dependence on input order. Distances come from the `Levenshtein` package, the
library the published script imports. Pools are the same as the pipeline's: `union` and
`own:<model>`.

    python -m benches.baseline .bench/paths_1m --out .bench/baseline_1m.parquet
"""

import argparse
import json
import resource
import time
from collections import defaultdict
from pathlib import Path

import Levenshtein
import pyarrow as pa
import pyarrow.parquet as pq

from rft.filter.path_verdict import verify_path
from rft.filter.pools import UNION_POOL, own_pool


def dedup_in_arrival_order(paths: list[dict]) -> dict[str, dict]:
    """Equation list -> the kept path, for the correct paths of one question in one pool."""
    kept: dict[str, dict] = {}
    producers: dict[str, int] = defaultdict(int)
    for path in paths:
        key = path["equation_list"]
        producers[key] += 1
        if key not in kept:
            kept[key] = path
            continue
        others = [p["text"] for k, p in kept.items() if k != key]
        new_score = sum(Levenshtein.distance(path["text"], o) for o in others)
        old_score = sum(Levenshtein.distance(kept[key]["text"], o) for o in others)
        if new_score > old_score:
            kept[key] = path
    for key, path in kept.items():
        path["n_producers"] = producers[key]
    return kept


def run(input_dir: Path) -> list[dict]:
    questions = pq.read_table(input_dir / "questions.parquet", columns=["question_id", "gold_answer"])
    gold = dict(zip(questions["question_id"].to_pylist(), questions["gold_answer"].to_pylist()))
    generations = pq.read_table(input_dir / "generations")
    by_question: dict[str, list[dict]] = defaultdict(list)
    for row in generations.to_pylist():
        by_question[row["question_id"]].append(row)

    distinct = []
    for question_id, rows in by_question.items():
        pools: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            verdict = verify_path(row["text"], gold.get(question_id) or "", memoize=False)
            if verdict.is_correct and question_id in gold:
                path = {**row, "equation_list": verdict.equation_list}
                pools[UNION_POOL].append(path)
                pools[own_pool(row["model"])].append(dict(path))
        for pool, paths in pools.items():
            for key, path in dedup_in_arrival_order(paths).items():
                distinct.append({"pool": pool, "question_id": question_id, "equation_list": key,
                                 "model": path["model"], "sample_idx": path["sample_idx"],
                                 "text": path["text"], "n_producers": path["n_producers"]})
    return distinct


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=Path, help="folder written by benches.synthetic_paths")
    parser.add_argument("--out", type=Path, required=True, help="distinct paths, Parquet")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    distinct = run(args.input)
    pq.write_table(pa.Table.from_pylist(distinct), args.out)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb), "distinct": len(distinct)}))


if __name__ == "__main__":
    main()
