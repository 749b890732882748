"""Planned requests -> Parquet chunks, on one worker process per GPU (one worker on CPU).

The sample and evaluate steps plan their requests (`rft.sampling.requests.plan_requests`), then call
`run_jobs`. With one worker it generates in the step's own process; with several it shards the
request groups round-robin, writes one spec per worker and launches

    python -m rft.steps.gpu_workers --spec worker-0.json     # CUDA_VISIBLE_DEVICES=<its GPU>

once per worker, waits for all and fails if any failed. Every worker writes its finished rows
to the job's parts folder as `part-<worker run id>-<n>.parquet` (temporary name, then rename),
so a killed run loses at most the chunk in progress, whichever worker wrote what.
Workers die with their parent (Linux), so killing the step kills them too.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pandas as pd

from rft.home import PROJECT_ROOT
from rft.sampling.requests import Request, checkpoint_config, choose_backend, static_engine_supports
from rft.sampling.sampler import load_backend, run_requests
from rft.steps.step_io import parse_spec, set_threads, write_json, write_parquet_atomic
from rft.steps.step_specs import WorkerBackend, WorkerJob, WorkerSpec, write_spec

# finish_reason: "eos", or "length" where max_new_tokens cut the path (never a silent cut).
ROW_COLUMNS = ["question_id", "sample_idx", "seed", "text", "n_new_tokens", "finish_reason"]


@dataclass
class Job:
    """One checkpoint's requests at one temperature, written to `parts_dir`."""

    checkpoint: str
    temperature: float
    max_new_tokens: int
    groups: list[list[Request]]
    parts_dir: str
    label: str = "sample"  # progress bar text


@dataclass
class Backend:
    """Which backend the workers build, and how."""

    name: str  # "vllm" or "transformers" (already chosen: never "auto")
    batch_size: int = 64
    vllm_options: dict | None = None


def visible_gpus() -> list[str]:
    """Ids of the GPUs this process may use, as CUDA_VISIBLE_DEVICES would name them."""
    import torch

    count = torch.cuda.device_count()
    listed = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return (listed or [str(i) for i in range(count)])[:count]


def step_backend(requested: str, checkpoints: list[str]) -> str:
    """`choose_backend` with what this process sees: a GPU, and whether the static engine runs
    every checkpoint (their config.json)."""
    import torch

    static = bool(checkpoints) and all(static_engine_supports(checkpoint_config(c)) for c in checkpoints)
    return choose_backend(requested, static_engine=static, gpu=torch.cuda.is_available())


def worker_devices(workers: int | None, gpus: list[str]) -> list[str | None]:
    """One worker per GPU by default; None stands for a CPU worker. `workers` overrides the count."""
    if gpus:
        return [gpus[i % len(gpus)] for i in range(workers or len(gpus))]
    return [None] * (workers or 1)


def shard(groups: list, n: int) -> list[list]:
    """Round-robin: worker i gets groups i, i+n, ... (shards differ in size by one group at most)."""
    return [groups[i::n] for i in range(n)]


def run_jobs(jobs: list[Job], backend: Backend, *, workers: int | None = None, workdir: str,
             chunk_rows: int = 1024, num_threads: int | None = None, progress: bool = True,
             log=print) -> dict:
    """Generate every job's requests.

    Returns {"rows", "tokens", "seconds" (wall, model loading included), "generate_seconds"
    (the slowest worker's time in generate calls), "workers"}.
    """
    devices = worker_devices(workers, visible_gpus())
    start = time.perf_counter()
    if len(devices) == 1:
        stats = generate_jobs(jobs, backend, chunk_rows=chunk_rows, progress=progress)
        return {**stats, "seconds": time.perf_counter() - start, "workers": 1}
    log(f"{len(devices)} workers on " + ", ".join(f"GPU {d}" if d else "CPU" for d in devices))
    threads = num_threads or os.cpu_count() or 1
    cpu_threads = max(1, threads // len(devices))  # CPU workers share the cores
    os.makedirs(workdir, exist_ok=True)
    procs = []
    for i, device in enumerate(devices):
        spec_path = os.path.join(workdir, f"worker-{i}.json")
        write_spec(_worker_spec(jobs, backend, i, len(devices), workdir, chunk_rows,
                                num_threads if device else cpu_threads, progress), spec_path)
        procs.append(subprocess.Popen([sys.executable, "-m", "rft.steps.gpu_workers", "--spec", spec_path],
                                      env=_worker_env(device), preexec_fn=_die_with_parent))
    failed = [(i, rc) for i, rc in enumerate(p.wait() for p in procs) if rc != 0]
    if failed:
        raise RuntimeError("generation worker(s) failed: " + ", ".join(
            f"worker {i} (device {devices[i] or 'CPU'}) exited with code {rc}" for i, rc in failed)
            + "; their error output is above. Finished chunks are kept: run the step again to resume.")
    stats = [_read_json(os.path.join(workdir, f"worker-{i}.stats.json")) for i in range(len(devices))]
    return {"rows": sum(s["rows"] for s in stats), "tokens": sum(s["tokens"] for s in stats),
            "generate_seconds": max(s["generate_seconds"] for s in stats),
            "seconds": time.perf_counter() - start, "workers": len(devices)}


def generate_jobs(jobs: list[Job], backend: Backend, chunk_rows: int = 1024, progress: bool = True,
                  worker: int | None = None) -> dict:
    """This process's share: every job in turn, one engine per checkpoint, chunks as they fill."""
    run_id = uuid.uuid4().hex[:12]  # part names never collide with an earlier run's
    rows = tokens = part_no = 0
    generating = 0.0
    engine, engine_checkpoint = None, None
    for job in jobs:
        if not any(job.groups):
            continue
        if engine_checkpoint != job.checkpoint:
            if engine is not None:
                engine.close()
            engine = load_backend(backend.name, job.checkpoint, backend.batch_size, backend.vllm_options)
            engine_checkpoint = job.checkpoint
        os.makedirs(job.parts_dir, exist_ok=True)
        desc = job.label if worker is None else f"{job.label} w{worker}"
        buffer, start = [], time.perf_counter()
        for row in run_requests(engine, job.groups, job.temperature, job.max_new_tokens, progress, desc):
            buffer.append(row)
            rows += 1
            tokens += row["n_new_tokens"] or 0
            if len(buffer) >= chunk_rows:
                _write_part(buffer, job.parts_dir, run_id, part_no)
                buffer, part_no = [], part_no + 1
        if buffer:
            _write_part(buffer, job.parts_dir, run_id, part_no)
            part_no += 1
        generating += time.perf_counter() - start
    if engine is not None:
        engine.close()
    return {"rows": rows, "tokens": tokens, "generate_seconds": generating}


def read_parts(parts_dir: str) -> pd.DataFrame:
    """Every chunk in `parts_dir`, one row per (question_id, sample_idx), sorted by both."""
    names = sorted(n for n in os.listdir(parts_dir) if n.startswith("part-") and n.endswith(".parquet")) \
        if os.path.isdir(parts_dir) else []
    frames = [pd.read_parquet(os.path.join(parts_dir, n)) for n in names]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(ROW_COLUMNS, ["object", "int64", "int64", "object", "int64", "object"])})
    # Chunks written before finish_reason existed resume with it unknown (None), not dropped.
    frames = [f if "finish_reason" in f.columns else f.assign(finish_reason=None) for f in frames]
    return (pd.concat(frames, ignore_index=True)[ROW_COLUMNS]
            .drop_duplicates(["question_id", "sample_idx"])
            .sort_values(["question_id", "sample_idx"], ignore_index=True))


def _write_part(rows: list[dict], parts_dir: str, run_id: str, part_no: int) -> None:
    write_parquet_atomic(pd.DataFrame(rows, columns=ROW_COLUMNS),
                         os.path.join(parts_dir, f"part-{run_id}-{part_no:05d}.parquet"))


def _worker_spec(jobs, backend, i, n, workdir, chunk_rows, num_threads, progress) -> WorkerSpec:
    specs = []
    for j, job in enumerate(jobs):
        requests = os.path.join(workdir, f"worker-{i}-job-{j}.parquet")
        groups = shard(job.groups, n)[i]
        write_parquet_atomic(pd.DataFrame(
            [{**r.__dict__, "group": g} for g, group in enumerate(groups) for r in group],
            columns=["question_id", "question", "sample_idx", "seed", "keep", "group"]), requests)
        specs.append(WorkerJob(checkpoint=job.checkpoint, temperature=job.temperature,
                               max_new_tokens=job.max_new_tokens, requests=requests,
                               parts_dir=job.parts_dir, label=job.label))
    return WorkerSpec(jobs=specs, backend=WorkerBackend(**backend.__dict__), worker=i, chunk_rows=chunk_rows,
                      num_threads=num_threads, progress=progress,
                      stats=os.path.join(workdir, f"worker-{i}.stats.json"))


def _read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _worker_env(device: str | None) -> dict[str, str]:
    # A worker is not the Pipes process: only the step reports to Dagster.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device
    return env


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _groups_from_file(path: str) -> list[list[Request]]:
    table = pd.read_parquet(path)
    return [[Request(r.question_id, r.question, int(r.sample_idx), int(r.seed), bool(r.keep))
             for r in group.itertuples()] for _, group in table.groupby("group", sort=True)]


def main(argv: list[str] | None = None) -> dict:
    spec = parse_spec(__doc__, WorkerSpec, argv)
    set_threads(spec)
    jobs = [Job(j.checkpoint, j.temperature, j.max_new_tokens, _groups_from_file(j.requests), j.parts_dir, j.label)
            for j in spec.jobs]
    stats = generate_jobs(jobs, Backend(**spec.backend.model_dump()), spec.chunk_rows, spec.progress,
                          worker=spec.worker)
    write_json(stats, spec.stats)
    return stats


if __name__ == "__main__":
    main()
