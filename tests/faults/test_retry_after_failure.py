"""Retrying an asset that failed midway, after some of its writes, adds no row twice.

Each asset fails right after a commit (`fail-after-commit`, `spark_jobs.fault_injection`):
`rft_datasets` between its rows and its manifests, `rft_model` after the first of its two
training sets, `rft import` after the paths and before verification. The run fails;
running it again ends with exactly the clean run's rows (for `rft_model`, one row per
checkpoint). `sampled_paths` is re-run after a failure in test_sampling_killed.py and
test_crash_mid_write.py; `sft_model` and `eval_results` write one table once their step is
done, the way `rft_model` writes each of its rows.
"""

import pytest

from rft_dagster.definitions import build_definitions
from rft_dagster.importing import import_generations
from spark_jobs.fault_injection import FAIL_AFTER_COMMIT, InjectedFault, arm
from spark_jobs.schemas import TABLES
from tests.faults.lab import A, COMPARED, EXT
from tests.faults.reliability import diff_rows

ASSETS = [  # asset, partition, the table after whose commit it fails
    pytest.param("questions", None, "questions", id="questions"),
    pytest.param("verified_paths", EXT, "verified_paths", id="verified_paths"),
    pytest.param("distinct_paths", None, "distinct_paths", id="distinct_paths"),
    pytest.param("rft_datasets", None, "rft_dataset_rows", id="rft_datasets-between-rows-and-manifests"),
]
def fail_after(monkeypatch, table, folder):
    for name, value in arm(FAIL_AFTER_COMMIT, table, folder).items():
        monkeypatch.setenv(name, value)


def failed_with_injected_fault(result) -> bool:
    errors = [e for e in result.all_events if e.is_step_failure]
    return not result.success and any(InjectedFault.__name__ in str(e.event_specific_data.error) for e in errors)


@pytest.mark.parametrize("asset, partition, table", ASSETS)
def test_retrying_an_asset_that_failed_after_a_write_adds_nothing_twice(lab, recorder, request, monkeypatch,
                                                                         tmp_path, asset, partition, table):
    with recorder.fault(request.node.name, "the asset fails right after a commit", f"{asset} after rft.{table}"):
        fail_after(monkeypatch, table, tmp_path)
        assert failed_with_injected_fault(lab.materialize(asset, partition=partition, raise_on_error=False))
        lab.manifests_pin_their_rows()
        monkeypatch.delenv("RFT_TEST_FAULT")

        lab.materialize(asset, partition=partition)
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs


def test_retrying_an_import_that_failed_after_its_paths_adds_nothing_twice(lab, recorder, request, monkeypatch,
                                                                            tmp_path):
    gens, questions = lab.import_files
    with recorder.fault(request.node.name, "rft import fails right after writing its paths",
                        f"rft import after rft.sampled_paths[{EXT}]"):
        fail_after(monkeypatch, "sampled_paths", tmp_path)
        with lab.instance() as instance, pytest.raises(InjectedFault):
            import_generations([str(gens)], str(questions), instance=instance, defs=build_definitions(lab.resources()))
        monkeypatch.delenv("RFT_TEST_FAULT")

        with lab.instance() as instance:
            import_generations([str(gens)], str(questions), instance=instance, defs=build_definitions(lab.resources()))
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs


def test_retrying_rft_model_that_failed_between_its_training_sets_adds_nothing_twice(lab, recorder, request,
                                                                                        monkeypatch, tmp_path):
    """A's RFT models: the run fails after training and recording the first of its two sets."""
    with recorder.fault(request.node.name, "the asset fails right after a commit",
                        f"rft_model[{A}] after rft.models (own:{A} recorded, union not trained)"):
        fail_after(monkeypatch, "models", tmp_path)
        assert failed_with_injected_fault(lab.materialize("rft_model", partition=A, raise_on_error=False))
        monkeypatch.delenv("RFT_TEST_FAULT")

        lab.materialize("rft_model", partition=A)
        key = TABLES["models"].key
        rows = [{k: row[k] for k in key} for row in lab.rows("models") if row["model"] == A]
        # the key holds the training seed too: one seed here, the config's (42)
        expected = [dict(zip(key, k)) for k in ((A, "sft", "sft", 42), (A, "rft", f"own:{A}", 42), (A, "rft", "union", 42))]
        diff = recorder.record(diff_rows("models", key, expected, rows))
        assert diff.clean, diff
