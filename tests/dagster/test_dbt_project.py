"""The dbt manifest Dagster reads: built by `dbt parse` on a clean clone, rebuilt after an edit."""

import os
import shutil

from dagster_dbt import DbtProject

from rft_dagster.dbt_project import DBT_DIR, manifest_is_stale, mart_names, prepare_manifest


def test_a_clean_checkout_gets_its_manifest_and_an_edited_model_makes_it_stale(tmp_path):
    project_dir = tmp_path / "dbt"
    shutil.copytree(DBT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    assert manifest_is_stale(project)  # no target/ at all, as in a fresh clone

    manifest = prepare_manifest(project)  # needs no Spark server: parsing reads no table
    assert manifest == project.manifest_path and manifest.exists()
    assert not manifest_is_stale(project)
    built = manifest.stat().st_mtime

    model = project_dir / "models" / "marts" / "pass_at_k.sql"
    os.utime(model, (built + 5, built + 5))
    assert manifest_is_stale(project)
    # what dbt writes itself (logs, compiled SQL under target/) never makes it stale
    (project_dir / "logs").mkdir(exist_ok=True)
    (project_dir / "logs" / "dbt.log").write_text("later")
    os.utime(project_dir / "logs" / "dbt.log", (built + 10, built + 10))
    os.utime(model, (built - 5, built - 5))
    assert not manifest_is_stale(project)


def test_the_marts_are_listed_from_the_manifest_every_model_under_models_marts():
    on_disk = sorted(path.stem for path in (DBT_DIR / "models" / "marts").glob("*.sql"))
    assert mart_names() == on_disk
    assert "scaling_union_gain" in on_disk and not any(name.startswith("stg_") for name in mart_names())
