"""Where a training run keeps its resume checkpoints, and which one a restarted run may use.

    resume = ResumeFolders.for_run("runs/train/m/sft/resume", asdict(cfg), examples, base={"name": "m"})
    found = resume.latest()            # newest complete checkpoint of exactly this run, or None
    if found is None:
        print(resume.why_fresh())      # "no resume checkpoint ..." or what differs from the one there
    resume.save(200, lambda folder: ...)   # write files into a temporary folder; renamed when whole
    resume.clear()                     # training done and its result saved: the state goes

Layout: `<resume_dir>/<fingerprint>/step-00000200/` holding the files and a `COMPLETE` marker.
A checkpoint is written in `.tmp-step-...` and renamed once every file and the marker are on
disk, so a process killed mid-write leaves a folder no reader takes (no marker, wrong name).
The fingerprint hashes what decides the trained weights (train config, training data, base),
so runs of other settings (another seed, say) never read or delete each other's state.
Imports no torch: what the files hold is `rft.training.resume_state`'s business.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER = "COMPLETE"
PREFIX = "step-"
KEEP = 2  # the newest two: if the newest cannot be read after all, the one before still can
# How often state is saved does not change what is trained: a run may resume with another value.
NOT_IN_FINGERPRINT = ("checkpoint_every",)


def run_settings(train_config: dict, examples: Sequence[tuple[str, str]], base) -> dict:
    """What a resumed run must share with the run that saved the state, as plain JSON."""
    data = hashlib.sha256()
    for prompt, response in examples:
        data.update(json.dumps([prompt, response]).encode())
        data.update(b"\n")
    return {
        "train_config": {k: v for k, v in train_config.items() if k not in NOT_IN_FINGERPRINT},
        "base": base,
        "n_examples": len(examples),
        "data_sha256": data.hexdigest(),
    }


def fingerprint(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def differences(saved: dict, now: dict) -> list[str]:
    """Why a saved state does not fit this run, in words: one entry per differing setting."""
    found = []
    old_cfg, new_cfg = saved.get("train_config", {}), now.get("train_config", {})
    for key in sorted(set(old_cfg) | set(new_cfg)):
        if old_cfg.get(key) != new_cfg.get(key):
            found.append(f"train_config.{key} was {old_cfg.get(key)!r}, now {new_cfg.get(key)!r}")
    if saved.get("data_sha256") != now.get("data_sha256"):
        found.append(f"the training data differ ({saved.get('n_examples')} examples then, "
                     f"{now.get('n_examples')} now)")
    if saved.get("base") != now.get("base"):
        found.append(f"the base was {saved.get('base')!r}, now {now.get('base')!r}")
    return found


def complete_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, folder) of every whole checkpoint in `folder`, oldest first; half-written ones are skipped."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        step = entry.name.removeprefix(PREFIX)
        if entry.name.startswith(PREFIX) and step.isdigit() and (entry / MARKER).is_file():
            found.append((int(step), entry))
    return sorted(found)


@dataclass(frozen=True)
class ResumeFolders:
    root: Path  # the run's resume folder: one subfolder per fingerprint
    settings: dict  # run_settings(...) of this run

    @classmethod
    def for_run(cls, resume_dir: str | Path, train_config: dict, examples, base) -> ResumeFolders:
        return cls(Path(resume_dir), run_settings(train_config, examples, base))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.settings)

    @property
    def folder(self) -> Path:
        return self.root / self.fingerprint

    def latest(self) -> Path | None:
        """The newest complete checkpoint of this run's settings; None: start from step 0."""
        found = complete_checkpoints(self.folder)
        return found[-1][1] if found else None

    def older_than(self, checkpoint: Path) -> Path | None:
        """The complete checkpoint saved before `checkpoint`, for when that one cannot be read."""
        earlier = [path for _, path in complete_checkpoints(self.folder) if path.name < checkpoint.name]
        return earlier[-1] if earlier else None

    def why_fresh(self) -> str:
        """Why this run starts at step 0: no state at all, or state of other settings (and what differs)."""
        others = [sub for sub in sorted(self.root.iterdir()) if sub.is_dir() and sub.name != self.fingerprint] \
            if self.root.is_dir() else []
        if not others:
            return f"no resume checkpoint in {self.root}: training starts at step 0"
        reasons = []
        for other in others:
            checkpoints = complete_checkpoints(other)
            if not checkpoints:
                continue
            saved = json.loads((checkpoints[-1][1] / MARKER).read_text())["settings"]
            reasons.append(f"{other} (step {checkpoints[-1][0]}): " + "; ".join(differences(saved, self.settings)))
        if not reasons:
            return f"no complete resume checkpoint in {self.root}: training starts at step 0"
        return ("training starts at step 0: the resume checkpoints there are of other settings, and are "
                "left alone (they may belong to a run in progress; delete them if not): " + " | ".join(reasons))

    def save(self, step: int, write_files: Callable[[Path], None]) -> Path:
        """Write a checkpoint for `step` whole or not at all, then drop all but the newest KEEP."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".tmp-{PREFIX}{step:08d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write_files(tmp)
        marker = {"step": step, "fingerprint": self.fingerprint, "settings": self.settings}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2, default=str))
        _fsync_tree(tmp)  # the files reach the disk before the name that vouches for them
        final = self.folder / f"{PREFIX}{step:08d}"
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _fsync_dir(self.folder)
        for _, old in complete_checkpoints(self.folder)[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
        self._remove_leftovers()
        return final

    def clear(self) -> None:
        """Training finished and its result is saved: this run's state is no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.root.is_dir() and not any(self.root.iterdir()):
            self.root.rmdir()

    def _remove_leftovers(self) -> None:
        """Temporary folders a killed process left half-written (only this run's settings write here)."""
        for entry in self.folder.iterdir():
            if entry.name.startswith(".tmp-"):
                shutil.rmtree(entry, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
