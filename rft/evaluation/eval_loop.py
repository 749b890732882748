"""Generate and grade: greedy (maj1@1) and majority-vote (maj1@K) accuracy of a sampling backend.

    backend = make_backend("transformers", model, tokenizer)
    rows = evaluate_greedy(backend, questions, max_new_tokens=256)
    accuracy_summary(rows)  # {"n", "correct", "accuracy", "ci_low", "ci_high"}
"""

from collections import defaultdict

from rft.evaluation.scoring import score_greedy, score_majority
from rft.sampling.requests import SamplingBackend, plan_requests
from rft.sampling.sampler import run_requests, sample_paths


def evaluate_greedy(backend: SamplingBackend, questions: list[dict],
                    max_new_tokens: int) -> list[dict]:
    """One greedy path per question: rows {question_id, text, answer, is_correct}."""
    groups = plan_requests(questions, 1, 0, backend.batch_size, backend.seeding)
    rows = run_requests(backend, groups, 0.0, max_new_tokens, progress=False)
    return score_greedy(questions, {r["question_id"]: r["text"] for r in rows})


def evaluate_majority(backend: SamplingBackend, questions: list[dict], k: int,
                      temperature: float, max_new_tokens: int, seed: int,
                      progress: bool = False) -> list[dict]:
    """maj1@K: the most common answer among K samples per question (see `score_majority`)."""
    paths = defaultdict(list)
    for row in sample_paths(backend, questions, k=k, temperature=temperature,
                            max_new_tokens=max_new_tokens, base_seed=seed, progress=progress):
        paths[row["question_id"]].append(row["text"])
    return score_majority(questions, paths)
