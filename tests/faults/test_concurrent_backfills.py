"""Two model backfills at once: two Dagster runs, in two processes, on one warehouse.

Run 1 samples and verifies the pipeline's model A (`sampled_paths`, `verified_paths`); run 2
verifies the imported model EXT2 (`verified_paths`). Each writes its own model partition of
the shared tables. Run 1's commit to `rft.verified_paths` is held until run 2 has finished, so
the two overlap however fast the machine is. The tables are partitioned by model, so neither
commit meets a conflict: both land, and the cross-model assets then see every model.
(Replaces that do meet a conflict are in test_write_conflicts.py.)
"""

from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from tests.faults.lab import A, COMPARED, EXT, EXT2, wait_paused


def test_two_backfills_at_once_both_land_and_the_cross_model_assets_see_both(lab, recorder, request, tmp_path):
    verified_files = lab.data_files_on_disk("verified_paths")
    with recorder.fault(request.node.name, "two Dagster runs at once; run 1's commit held until run 2 finished",
                        f"sampled_paths + verified_paths[{A}] and verified_paths[{EXT2}]"):
        run_1 = lab.start_dagster("backfill-1", "sampled_paths,verified_paths", A,
                                  **arm(PAUSE_BEFORE_COMMIT, "verified_paths", tmp_path))
        run_2 = lab.start_dagster("backfill-2", "verified_paths", EXT2)
        wait_paused(tmp_path, run_1, lambda: lab.data_files_on_disk("verified_paths") - verified_files)
        lab.finish(run_2)
        (tmp_path / "release").touch()
        log_1 = lab.finish(run_1)

        assert "Delta refused" not in log_1  # different partitions: no conflict to retry
        lab.materialize("distinct_paths")
        lab.materialize("rft_datasets")
        union = lab.lake.table("rft_datasets").filter("dataset = 'union'").collect()[0]
        assert set(union["source_models"]) == {A, EXT, EXT2}
        producers = lab.lake.spark.sql(
            "SELECT DISTINCT explode(producer_models) AS model FROM rft.distinct_paths WHERE pool = 'union'").collect()
        assert {EXT, EXT2} <= {r.model for r in producers}  # A's tiny model has no correct path to add
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
