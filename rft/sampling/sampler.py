"""The k-pass sampling loop: a backend for a checkpoint, then planned requests -> rows.

Either backend, on the same machine, gives the same text for a (question, sample, seed);
floating-point kernels may differ across hardware.

    backend = load_backend("auto", "checkpoints/tiny-llama-a/sft")   # vllm if importable
    for row in sample_paths(backend, questions, k=4, temperature=0.8, max_new_tokens=256,
                            base_seed=0):
        ...  # {"question_id", "sample_idx", "seed", "text", "n_new_tokens", "finish_reason"}
"""

import time
from collections.abc import Iterator

from tqdm.auto import tqdm

from rft.models.loading import load_model_and_tokenizer
from rft.sampling.requests import Request, SamplingBackend, choose_backend, plan_requests
from rft.sampling.transformers_backend import TransformersBackend
from rft.sampling.vllm_backend import VllmBackend
from rft.task.prompts import format_prompt


def load_backend(name: str, checkpoint: str, batch_size: int = 64,
                 vllm_options: dict | None = None) -> SamplingBackend:
    """The backend `name` ("auto", "vllm", "transformers") serving the model in `checkpoint`."""
    name = choose_backend(name)
    if name == "vllm":
        return VllmBackend(checkpoint, batch_size=batch_size, **(vllm_options or {}))
    model, tokenizer = load_model_and_tokenizer(checkpoint)
    return TransformersBackend(model, tokenizer, batch_size=batch_size)


def run_requests(backend: SamplingBackend, groups: list[list[Request]], temperature: float,
                 max_new_tokens: int, progress: bool = True, desc: str | None = None) -> Iterator[dict]:
    """Generate every group (one `generate` call each); yield a row per kept request."""
    # disable=None: no bar where stderr is no terminal (a log file), where each redraw would be a line.
    bar = tqdm(total=sum(len(g) for g in groups), desc=desc or f"sample {backend.name}",
               unit="path", disable=None if progress else True, mininterval=1.0)
    n_tokens, start = 0, time.perf_counter()
    for group in groups:
        texts = backend.generate([format_prompt(r.question) for r in group], temperature=temperature,
                                 max_new_tokens=max_new_tokens, seeds=[r.seed for r in group])
        counts = getattr(backend, "last_token_counts", None) or [None] * len(texts)
        reasons = getattr(backend, "last_finish_reasons", None) or [None] * len(texts)
        for r, text, count, reason in zip(group, texts, counts, reasons):
            if r.keep:
                yield {"question_id": r.question_id, "sample_idx": r.sample_idx, "seed": r.seed,
                       "text": text, "n_new_tokens": count, "finish_reason": reason}
        n_tokens += sum(c for c in counts if c is not None)
        bar.update(len(group))
        bar.set_postfix(tok_s=f"{n_tokens / (time.perf_counter() - start):.0f}")
    bar.close()


def sample_paths(backend: SamplingBackend, questions: list[dict], k: int, temperature: float,
                 max_new_tokens: int, base_seed: int, progress: bool = True,
                 done: set[tuple] | None = None) -> Iterator[dict]:
    """k sampled paths per question, one row per path, pass by pass; `done` rows are skipped."""
    groups = plan_requests(questions, k, base_seed, backend.batch_size, backend.seeding, done)
    yield from run_requests(backend, groups, temperature, max_new_tokens, progress)
