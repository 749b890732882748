"""The dbt project in `dbt/` and its manifest, which Dagster reads to build the marts' assets.

A clean clone has no `dbt/target/manifest.json`; loading the code location (Dagit, `rft run`,
the tests) runs `dbt parse` when the manifest is missing or older than any file of the
project, so an edited model shows up on the next reload. Parsing reads no table: it needs
neither the Spark server nor `SPARK_REMOTE`.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from rft.home import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt"
# What dbt reads to build its manifest; target/, logs/ and packages are its own output.
PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".py"}
OUTPUT_DIRS = {"target", "logs", "dbt_packages"}
PARSE_TIMEOUT_S = 600

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """The dbt beside this interpreter, so a virtualenv works without being activated."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def dbt_resource(project: DbtProject = dbt_project) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())


def project_files(project: DbtProject) -> list[Path]:
    return [
        path for path in project.project_dir.rglob("*")
        if path.suffix in PROJECT_SUFFIXES and path.is_file()
        and not OUTPUT_DIRS.intersection(path.relative_to(project.project_dir).parts)
    ]


def manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > built for path in project_files(project))


@contextmanager
def _parse_lock(project: DbtProject):
    """Dagit's code server and run workers load the code at once: one of them parses."""
    lock_path = project.project_dir / project.target_path / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """`dbt parse` if the manifest is missing or stale; returns the manifest's path."""
    if not manifest_is_stale(project):
        return project.manifest_path
    with _parse_lock(project):
        if manifest_is_stale(project):  # another process may have parsed while we waited
            command = [
                dbt_executable(), "parse", "--quiet", "--project-dir", str(project.project_dir),
                "--profiles-dir", str(project.profiles_dir), "--target-path", str(project.target_path),
            ]
            result = subprocess.run(
                command, cwd=project.project_dir, capture_output=True, text=True, timeout=PARSE_TIMEOUT_S
            )
            if result.returncode != 0 or not project.manifest_path.exists():
                raise RuntimeError(
                    f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
                    f"{(result.stdout + result.stderr).strip()[-4000:]}"
                )
    return project.manifest_path


def mart_names(project: DbtProject = dbt_project) -> list[str]:
    """The marts (models under models/marts/), as the manifest lists them: the one list of them."""
    nodes = json.loads(prepare_manifest(project).read_text())["nodes"].values()
    return sorted(node["name"] for node in nodes if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"])
