"""Grade stored evaluations again under the strict and the reference answer rule.

    python -m benches.rescore                                   # the gsm8k_controls evaluations
    python -m benches.rescore runs/*.eval.parquet --out /tmp/modes.json

Each file holds `rft.steps.evaluate` rows (question_id, metric, text, answer, is_correct) for
GSM8K test questions; gold answers come from the bundled test split. The files are only read.
The output JSON has, per file and metric, both rules' counts of correct answers, the stored
count, and the questions where the rules disagree (counts and a few examples); see
rft/evaluation/rescore.py and docs/verification.md, section 10.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from rft.evaluation.rescore import rescore_rows
from rft.filter.answers import extract_answer
from rft.home import PROJECT_ROOT
from rft.task.gsm8k import gsm8k_dir, load_jsonl_questions

DEFAULT_FILES = "benches/results/gsm8k_controls/*.eval.parquet"
DEFAULT_OUT = "benches/results/scoring_modes.json"


def test_gold() -> dict[str, str]:
    """question_id -> canonical gold answer of the bundled GSM8K test split."""
    questions = load_jsonl_questions(gsm8k_dir() / "test.jsonl", "test")
    return {q["question_id"]: extract_answer(q["answer"]) for q in questions}


def _shown(path: Path) -> str:
    """`path` relative to the repository when it is inside it, so the JSON is the same anywhere."""
    resolved = path.resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(path)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path,
                        help=f"evaluation parquet files (default: {DEFAULT_FILES})")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--examples", type=int, default=3, help="disagreements shown per file and direction")
    args = parser.parse_args(argv)
    files = args.files or sorted(PROJECT_ROOT.glob(DEFAULT_FILES))
    if not files:
        parser.error("no evaluation files given or found")
    gold = test_gold()
    result = {
        "rules": {
            "strict": "the project's: the whole line after the last '####' is one number, equal to gold",
            "reference": "the published scripts': first '#### (-?[0-9.,]+)', commas removed, "
                         "|float - gold| < 1e-4",
        },
        "gold": "data/gsm8k/test.jsonl",
        "files": {_shown(path): rescore_rows(pd.read_parquet(path), gold, args.examples) for path in files},
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for name, metrics in result["files"].items():
        greedy = metrics.get("maj1@1", {})
        if "n" in greedy:
            print(f"{name}: strict {greedy['strict_correct']}, reference {greedy['reference_correct']} "
                  f"of {greedy['n']} (strict only {greedy['strict_only']}, reference only {greedy['reference_only']}, "
                  f"answers differ {greedy['answers_differ']})")
    print(f"wrote {_shown(args.out)}")
    return result


if __name__ == "__main__":
    main()
