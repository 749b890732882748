"""Realistic synthetic sampled paths for benchmarking verification and dedup at scale.

Each path starts from a GSM8K train solution (real wording, real `<<lhs=rhs>>` annotations)
and is varied the way sampled paths vary:

- reworded: filler phrases and synonyms change the text but keep the equation list, so most
  correct paths of a question share a few lists (the duplicates dedup exists for);
- reordered: commutative annotations flipped (`<<3*4=12>>` -> `<<4*3=12>>`), giving a
  question a handful of genuinely distinct equation lists;
- wrong: a wrong final answer, or a false annotation with the right answer;
- malformed: no `####`, an unclosed `<<`, an answer that is not a number;
- hostile: names, calls, `^`, `%`, huge powers and operands inside annotations, and texts over
  the verifier's length limit.

Rates are per sample and configurable; the defaults give about 40% correct paths. Output is
Parquet in the "bring your own generations" shape: question_id, model, sample_idx, text, plus a
questions file (question_id, question, answer, gold_answer). Generation is deterministic in
(seed, question, model, sample).

    python -m benches.synthetic_paths --paths 1000000 --out .bench/paths_1m
"""

import argparse
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from rft.filter.answers import extract_answer
from rft.task.gsm8k import gsm8k_dir

GSM8K_TRAIN = gsm8k_dir() / "train.jsonl"

FILLERS = ("First, ", "So ", "Then ", "Next, ", "Now ", "This means ", "Therefore ", "We know that ", "")
SYNONYMS = {" altogether": [" in total", " in all", " overall"], " has ": [" holds ", " owns "],
            " bought ": [" purchased ", " got "], " each ": [" per ", " every "], "Total": ["Sum", "All"]}
HOSTILE_EQUATIONS = (
    "__import__('os').system('echo pwned')=0", "(1).__class__=1", "9**9**9**9=1", "2^10=1024",
    "17%5=2", "open('/etc/passwd')=1", "1" * 400 + "=1", "(" * 50 + "1" + ")" * 50 + "=1",
    "lambda:0=0", "10**100=1", "1e5=100000",
)
_COMMUTATIVE = re.compile(r"^([0-9.]+)([+*])([0-9.]+)=")


@dataclass(frozen=True)
class Rates:
    """How a sample goes wrong; whatever is left is correct (about 40% by default)."""

    wrong_answer: float = 0.40
    false_equation: float = 0.10
    malformed: float = 0.07
    hostile: float = 0.03


def load_solutions(path: Path = GSM8K_TRAIN) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            record = json.loads(line)
            rows.append({
                "question_id": f"train-{i:05d}", "question": record["question"],
                "answer": record["answer"], "gold_answer": extract_answer(record["answer"]),
            })
    return rows


def flip_commutative(solution: str, rng: random.Random) -> str:
    """Swap operands of some `a+b=` / `a*b=` annotations: the same result, another equation list."""

    def flip(match: re.Match) -> str:
        body = match.group(1)
        m = _COMMUTATIVE.match(body)
        if m is None or rng.random() < 0.5:
            return match.group(0)
        return f"<<{m.group(3)}{m.group(2)}{m.group(1)}={body[m.end():]}>>"

    return re.sub(r"<<([^<>]*)>>", flip, solution)


def reword(solution: str, rng: random.Random) -> str:
    """Change the wording around the annotations, never inside them."""
    lines = solution.split("\n")
    out = []
    for line in lines:
        if line.startswith("####"):
            out.append(line)
            continue
        if "<<" not in line:
            for old, new in SYNONYMS.items():
                if old in line and rng.random() < 0.5:
                    line = line.replace(old, rng.choice(new))
        out.append(rng.choice(FILLERS) + line)
    if rng.random() < 0.3:
        out.insert(-1, rng.choice(["Let me check that again.", "That makes sense.", "Done."]))
    return "\n".join(out)


def sample_text(row: dict, rng: random.Random, rates: Rates) -> str:
    solution = row["answer"]
    if rng.random() < 0.35:  # a question has a few distinct reasonings, most samples share one
        solution = flip_commutative(solution, random.Random(rng.randrange(4)))
    text = reword(solution, rng)
    roll = rng.random()
    if roll < rates.wrong_answer:
        return re.sub(r"#### .*$", f"#### {rng.randint(0, 999)}", text)
    roll -= rates.wrong_answer
    if roll < rates.false_equation:
        return re.sub(r"=([0-9.]+)>>", lambda m: f"={m.group(1)}1>>", text, count=1) if "<<" in text else text + " <<1+1=3>>"
    roll -= rates.false_equation
    if roll < rates.malformed:
        kind = rng.randrange(3)
        if kind == 0:
            return text.rsplit("####", 1)[0]
        if kind == 1:
            return text.replace(">>", "", 1) if ">>" in text else text + "<<2+2"
        return text.rsplit("####", 1)[0] + "#### about ten"
    roll -= rates.malformed
    if roll < rates.hostile:
        if rng.random() < 0.1:
            return text + "\n" + "x" * 25_000  # over the verifier's length limit
        return text.replace("\n####", f"\n<<{rng.choice(HOSTILE_EQUATIONS)}>>\n####", 1)
    return text


def generate(
    out: Path, n_paths: int, n_models: int = 2, rates: Rates = Rates(), seed: int = 0,
    solutions: list[dict] | None = None, rows_per_file: int = 500_000,
) -> dict:
    """Write about `n_paths` paths over every question (k = n_paths / questions / models)."""
    solutions = solutions or load_solutions()
    k = max(1, round(n_paths / len(solutions) / n_models))
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(solutions), out / "questions.parquet")
    (out / "generations").mkdir(exist_ok=True)
    buffer: dict[str, list] = {"question_id": [], "model": [], "sample_idx": [], "text": []}
    n_files = n_written = 0

    def flush():
        nonlocal n_files, n_written
        if buffer["text"]:
            pq.write_table(pa.table(buffer), out / "generations" / f"part-{n_files:05d}.parquet")
            n_files += 1
            n_written += len(buffer["text"])
            for column in buffer.values():
                column.clear()

    started = time.perf_counter()
    for row in tqdm(solutions, desc="questions", unit="q", mininterval=2):
        for m in range(n_models):
            model = f"model-{m}"
            for s in range(k):
                rng = random.Random(f"{seed}|{row['question_id']}|{model}|{s}")
                buffer["question_id"].append(row["question_id"])
                buffer["model"].append(model)
                buffer["sample_idx"].append(s)
                buffer["text"].append(sample_text(row, rng, rates))
        if len(buffer["text"]) >= rows_per_file:
            flush()
    flush()
    manifest = {"n_paths": n_written, "n_questions": len(solutions), "n_models": n_models, "k": k,
                "seed": seed, "rates": rates.__dict__, "seconds": round(time.perf_counter() - started, 1)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=1_000_000, help="about how many paths (default 1M)")
    parser.add_argument("--models", type=int, default=2, help="models (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out, args.paths, args.models, seed=args.seed), indent=2))


if __name__ == "__main__":
    main()
