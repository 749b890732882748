"""Where everything a run makes lives: `$RFT_HOME`, by default `.rft_home/` in the project."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_home() -> Path:
    return Path(os.environ.get("RFT_HOME") or PROJECT_ROOT / ".rft_home").resolve()


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def warehouse(self) -> Path:  # Delta tables, metastore, Spark server state
        return self.root / "warehouse"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def runs(self) -> Path:  # inputs and outputs of external (GPU) steps
        return self.root / "runs"

    @property
    def dagster(self) -> Path:  # DAGSTER_HOME: run history and dynamic partitions
        return self.root / "dagster"

    @property
    def model_registry(self) -> Path:  # models added with `rft models add NAME --from ...`
        return self.root / "models.json"

    def run_dir(self, *parts: str) -> Path:
        path = self.runs.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def check_writable(self) -> None:
        """Fail before any work when a run could not write its results."""
        for folder, what in ((self.root, "RFT_HOME"), (self.warehouse, "the warehouse"), (self.runs, "runs"),
                             (self.checkpoints, "checkpoints"), (self.dagster, "the Dagster home")):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                probe = folder / ".write-probe"
                probe.write_text("ok")
                probe.unlink()
            except OSError as exc:
                raise PermissionError(f"{what} {folder} is not writable: {exc}") from None
