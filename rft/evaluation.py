"""Test-set accuracy as the paper reports it: maj1@1 (greedy) and maj1@K (majority of K samples).

    backend = make_backend("transformers", model, tokenizer)
    rows = evaluate_greedy(backend, questions, max_new_tokens=256)
    accuracy_summary(rows)  # {"n", "correct", "accuracy", "ci_low", "ci_high"}

`questions` are dicts with `question_id`, `question` and `gold_answer` (the number after ####).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from rft.answers import answers_match, extract_answer

if TYPE_CHECKING:
    from rft.sampling import SamplingBackend


def evaluate_greedy(backend: SamplingBackend, questions: list[dict],
                    max_new_tokens: int) -> list[dict]:
    """One greedy path per question: rows {question_id, text, answer, is_correct}."""
    # Imported here: sampling imports torch, which the orchestrator (reading accuracy_summary) can skip.
    from rft.sampling import plan_requests, run_requests

    groups = plan_requests(questions, 1, 0, backend.batch_size, backend.seeding)
    rows = run_requests(backend, groups, 0.0, max_new_tokens, progress=False)
    return score_greedy(questions, {r["question_id"]: r["text"] for r in rows})


def evaluate_majority(backend: SamplingBackend, questions: list[dict], k: int,
                      temperature: float, max_new_tokens: int, seed: int,
                      progress: bool = False) -> list[dict]:
    """maj1@K: the most common answer among K samples per question (see `score_majority`)."""
    from rft.sampling import sample_paths

    paths = defaultdict(list)
    for row in sample_paths(backend, questions, k=k, temperature=temperature,
                            max_new_tokens=max_new_tokens, base_seed=seed, progress=progress):
        paths[row["question_id"]].append(row["text"])
    return score_majority(questions, paths)


def score_greedy(questions: list[dict], texts: dict[str, str]) -> list[dict]:
    """Rows {question_id, text, answer, is_correct}, one per question, from its greedy text."""
    rows = []
    for q in questions:
        text = texts[q["question_id"]]
        answer = extract_answer(text)
        rows.append({"question_id": q["question_id"], "text": text, "answer": answer,
                     "is_correct": answers_match(answer, q["gold_answer"])})
    return rows


def score_majority(questions: list[dict], paths: dict[str, list[str]]) -> list[dict]:
    """maj1@K from each question's K texts (in sample order).

    Ties go to the smallest canonical answer string, so the vote never depends on sample
    order. Paths without an answer do not vote. Rows: {question_id, text (one path giving the
    chosen answer, or the first path), answer, votes (for the chosen answer), is_correct}.
    """
    rows = []
    for q in questions:
        texts = paths[q["question_id"]]
        answers = [extract_answer(t) for t in texts]
        answer, votes = majority_vote(answers)
        text = texts[answers.index(answer)] if answer is not None else texts[0]
        rows.append({"question_id": q["question_id"], "text": text, "answer": answer,
                     "votes": votes, "is_correct": answers_match(answer, q["gold_answer"])})
    return rows


def majority_vote(answers: list[str | None]) -> tuple[str | None, int]:
    """(most common non-None answer, its count); ties to the smallest string; (None, 0) if none."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None, 0
    answer = min(counts, key=lambda a: (-counts[a], a))
    return answer, counts[answer]


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion: sane at 0%, 100% and small n, unlike p +- z*se."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0% and 100% rounding can leave a bound a hair past p (1e-17 > 0): the interval holds p.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def mcnemar_p_value(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar test for two models graded on the same questions.

    `only_a`: questions A answers right and B wrong; `only_b` the reverse. Questions both get
    right or wrong say nothing about which is better, so only the discordant ones count: under
    "no difference" each is A's with probability 1/2. Two models' 95% intervals can overlap
    while this paired test still tells them apart.
    """
    if only_a < 0 or only_b < 0:
        raise ValueError(f"counts must be >= 0, got {only_a} and {only_b}")
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def accuracy_summary(rows: list[dict]) -> dict:
    """n, correct, accuracy and its 95% Wilson interval over rows with `is_correct`."""
    n = len(rows)
    correct = sum(bool(r["is_correct"]) for r in rows)
    low, high = wilson_interval(correct, n)
    return {"n": n, "correct": correct, "accuracy": correct / n if n else 0.0,
            "ci_low": low, "ci_high": high}
