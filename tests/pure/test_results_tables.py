"""The docs' results tables are generated from benches/results/*.json (scripts/results_tables.py).

A table edited by hand, or a record changed without regenerating the docs, fails here:

    python scripts/results_tables.py           # rewrites the stale tables
"""

import importlib.util
import json

from rft.home import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("results_tables", PROJECT_ROOT / "scripts" / "results_tables.py")
results_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_tables)

EARLIER = {
    "entries": [
        {"model": "tiny", "stage": "sft", "training_set": "sft", "n_test": 4, "correct": 3, "accuracy": 0.75,
         "ci_low": 0.3006, "ci_high": 0.9544, "distinct_paths": None},
        {"model": "tiny", "stage": "rft", "training_set": "own:tiny", "n_test": 4, "correct": 4, "accuracy": 1.0,
         "ci_low": 0.5101, "ci_high": 1.0, "distinct_paths": 1234},
    ],
    "paired": [{"model": "tiny", "training_set": "own:tiny", "gain": 0.25, "only_rft_correct": 1,
                "only_sft_correct": 0, "mcnemar_p": 1.0},
               {"model": "tiny", "training_set": "union", "gain": 0.5, "only_rft_correct": 2,
                "only_sft_correct": 0, "mcnemar_p": 0.02}],
}
TINY_RUN = {
    "finding": "RFT own scores 25.0 points above SFT.",
    "runs": [{"arm": "sft", "seed": 1, "correct": 3, "n": 4, "ci_low": 0.3006, "ci_high": 0.9544},
             {"arm": "sft", "seed": 2, "correct": 2, "n": 4, "ci_low": 0.15, "ci_high": 0.85}],
    "arms": [{"arm": "sft", "description": "gold solutions", "seeds": [1, 2], "steps": [3, 3],
              "training_tokens": [90, 110], "accuracy": {"mean": 0.625, "sd": 0.1768}}],
    "tests": [{"a": "rft_own", "b": "sft", "scope": "seed", "seeds_a": [1], "seeds_b": [1], "only_a": 1, "only_b": 0,
               "difference": 0.25, "ci_low": -0.1, "ci_high": 0.6, "p_value": 1.0, "p_holm": 1.0},
              {"a": "rft_own", "b": "sft", "scope": "pooled", "seeds_a": [1, 2], "seeds_b": [1, 2],
               "difference": 0.25, "ci_low": 0.05, "ci_high": 0.45, "p_value": 0.5, "p_holm": 1.0}],
    "earlier_uncontrolled_run": EARLIER,
}
DOC = """# Tiny

<!-- results:gsm8k_finding -->
<!-- /results:gsm8k_finding -->

<!-- results:gsm8k_arms -->
| typed | by hand |
<!-- /results:gsm8k_arms -->

Text between the tables stays as it is.

<!-- results:gsm8k_contrasts -->
<!-- /results:gsm8k_contrasts -->

<!-- results:gsm8k_earlier -->
<!-- /results:gsm8k_earlier -->

<!-- results:gsm8k_earlier_paired -->
<!-- /results:gsm8k_earlier_paired -->
"""


def tiny_repo(tmp_path, doc: str = DOC):
    (tmp_path / "benches" / "results").mkdir(parents=True)
    (tmp_path / "benches" / "results" / "gsm8k_rft.json").write_text(json.dumps(TINY_RUN))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tiny.md").write_text(doc)
    return tmp_path / "docs" / "tiny.md"


def test_every_results_table_in_the_docs_matches_its_record():
    stale = results_tables.stale(PROJECT_ROOT)
    assert stale == [], f"regenerate with `python scripts/results_tables.py`: {[str(p) for p in stale]}"


def test_a_table_is_rendered_from_its_record_between_the_markers(tmp_path):
    doc = tiny_repo(tmp_path)

    assert results_tables.main(["--root", str(tmp_path)]) == 0

    text = doc.read_text()
    assert "| typed | by hand |" not in text
    assert "**Finding.** RFT own scores 25.0 points above SFT." in text
    assert ("| sft | gold solutions | 2 | 3 | 90 to 110 | 62.5 | 17.7 | s1: 75.0 [30.1, 95.4]; s2: 50.0 [15.0, 85.0] |"
            in text)
    assert "| rft_own vs sft | 1 vs 1 | exact McNemar | 1 | 0 | +25.0 [-10.0, +60.0] | 1.0 | 1.0 |" in text
    pooled = "| rft_own vs sft | all: 1, 2 vs 1, 2 | sign-flip, seed-averaged |  |  | +25.0 [+5.0, +45.0] | 0.5 | 1.0 |"
    assert pooled in text
    assert "| tiny | SFT | SFT data (GSM8K train) |  | 3 / 4 | 75.0 [30.1, 95.4] |" in text
    assert "| tiny | RFT | SFT data + own paths | 1,234 | 4 / 4 | 100.0 [51.0, 100.0] |" in text
    assert "Text between the tables stays as it is." in text
    assert text.count("from `benches/results/gsm8k_rft.json`") == 5
    assert results_tables.main(["--root", str(tmp_path), "--check"]) == 0


def test_a_hand_edit_or_a_changed_record_makes_the_check_fail_without_writing(tmp_path, capsys):
    doc = tiny_repo(tmp_path)
    results_tables.main(["--root", str(tmp_path)])
    edited = doc.read_text().replace("75.0 [30.1, 95.4]", "80.0 [30.1, 95.4]")
    doc.write_text(edited)

    assert results_tables.main(["--root", str(tmp_path), "--check"]) == 1
    assert doc.read_text() == edited
    assert "docs/tiny.md: stale" in capsys.readouterr().out

    results_tables.main(["--root", str(tmp_path)])
    record = tmp_path / "benches" / "results" / "gsm8k_rft.json"
    record.write_text(json.dumps({**TINY_RUN, "runs": TINY_RUN["runs"][:1]}))
    assert results_tables.main(["--root", str(tmp_path), "--check"]) == 1


def test_every_table_of_p_values_shows_holm_beside_the_raw_p_and_names_its_family(tmp_path):
    doc = tiny_repo(tmp_path)
    results_tables.main(["--root", str(tmp_path)])
    text = doc.read_text()

    # Two tests in the earlier run's table: 0.02 * 2 = 0.04; 1.0 stays 1.0.
    assert "| tiny | own | +25.0 | 1 | 0 | 1.0 | 1.0 |" in text
    assert "| tiny | union | +50.0 | 2 | 0 | 0.02 | 0.04 |" in text
    assert "over the family of all 2 tests in the table; the raw p" in text
    assert "over the family of all 2 tests in the table (the record's `tests`" in text

    scaling = {"runs": {"r": {"paired": [
        {"study": "rft_vs_k", "model": "m", "a": "k=1", "b": "sft", "difference": 0.01, "only_a": 3, "only_b": 2,
         "mcnemar_p": 0.01},
        {"study": "rft_vs_k", "model": "m", "a": "k=3", "b": "sft", "difference": 0.02, "only_a": 5, "only_b": 2,
         "mcnemar_p": 0.04}]}}}
    contrasts = "\n".join(results_tables.scaling_contrasts(scaling, "r"))
    assert "| rft_vs_k | m | k=1 vs sft | +1.0 | 3 | 2 | 0.01 | 0.02 |" in contrasts
    assert "| rft_vs_k | m | k=3 vs sft | +2.0 | 5 | 2 | 0.04 | 0.04 |" in contrasts
    assert "all 2 tests in the table" in contrasts


def test_fitted_laws_and_cells_read_as_the_record_states_them():
    record = {"entries": [{"run": "r", "study": "sft_vs_data", "model": "m", "varies": "fraction",
                           "x": [0.03125, 1.0], "n_sft_rows": [234, 7473], "distinct_paths": [0, 0],
                           "y": [0.1736, 0.3275], "ci_low": [0.15, 0.30], "ci_high": [0.2, 0.35],
                           "n": [1319, 1319], "correct": [229, 432],
                           "fits": {"n_sft_rows": {"a": -0.0539, "b": 0.0431, "r2": 0.9675, "n": 2, "log_x": True}}}]}

    cells = "\n".join(results_tables.scaling(record, "r"))
    fits = "\n".join(results_tables.scaling_fits(record, "r"))

    assert "| sft_vs_data | m | 1/32 |  | 0 | 234 | 229 / 1,319 | 17.4 [15.0, 20.0] |" in cells
    assert "| sft_vs_data | m | -0.0539 + 0.0431 ln(SFT rows) | 0.968 |  | 2 |" in fits
    assert results_tables.scaling(record, "another run")[2:] == []


def test_an_unknown_table_or_a_missing_end_marker_is_a_clear_error(tmp_path, capsys):
    tiny_repo(tmp_path, "<!-- results:no_such_table -->\n<!-- /results:no_such_table -->\n")
    assert results_tables.main(["--root", str(tmp_path), "--check"]) == 2
    assert "unknown results table 'no_such_table'" in capsys.readouterr().err

    (tmp_path / "docs" / "tiny.md").write_text("<!-- results:gsm8k_arms -->\nno end\n")
    assert results_tables.main(["--root", str(tmp_path), "--check"]) == 2
    assert "docs/tiny.md:1: <!-- /results:gsm8k_arms --> missing" in capsys.readouterr().err


DEMO_RUN = {
    "models": ["a"],
    "funnel": [{"model": "a", "sampled": 8, "correct": 3, "distinct": 2},
               {"model": "union", "sampled": 8, "correct": 3, "distinct": 2}],
    "arms": [
        {"model": "a", "stage": "sft", "training_set": "sft", "seeds": [42], "n_test": [4], "n_correct": [1],
         "ci_low": [0.0456], "ci_high": [0.6994], "mean": 0.25, "sd": None, "n_steps": [3], "n_tokens": [30]},
        {"model": "a", "stage": "rft", "training_set": "union", "seeds": [42, 43], "n_test": [4, 4],
         "n_correct": [3, 4], "ci_low": [0.3, 0.5], "ci_high": [0.95, 1.0], "mean": 0.875, "sd": 0.1768,
         "n_steps": [5], "n_tokens": [50]},
        {"model": "a", "stage": "sft_matched", "training_set": "union", "seeds": [42, 43], "n_test": [4, 4],
         "n_correct": [2, 1], "ci_low": [0.15, 0.05], "ci_high": [0.85, 0.7], "mean": 0.375, "sd": 0.1768,
         "n_steps": [5], "n_tokens": [30]},
    ],
    "comparisons": [{"model": "a", "training_set": "union", "versus": "sft_matched", "diff": 0.5,
                     "ci_low": 0.1, "ci_high": 0.9, "p_value": 0.25, "p_holm": 0.5}],
}


def test_the_demo_table_shows_each_arm_over_seeds_beside_the_paths():
    lines = results_tables.demo(DEMO_RUN, None)
    assert lines[0] == "| model | sampled | correct | distinct | SFT acc % | RFT union acc % | SFT matched union acc % |"
    assert lines[2] == "| a | 8 | 3 | 2 | 25.0 [4.6, 69.9] | 87.5 ± 17.7 (2 seeds) | 37.5 ± 17.7 (2 seeds) |"
    assert lines[3] == "| union | 8 | 3 | 2 |  |  |  |"
    assert results_tables.demo_paired(DEMO_RUN, None)[2] == (
        "| a | union | SFT matched | 5 vs 5 | +50.0 [+10.0, +90.0] | 0.25 | 0.5 |"
    )
