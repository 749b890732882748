"""The numbers behind the report and the plots, on tiny inputs."""

import pandas as pd

from rft.reporting.run_plots import accuracy_vs_paths_plot, markdown_image, pass_at_k_plot
from rft.reporting.result_tables import funnel_table, sft_vs_rft, with_interval
from spark_jobs.run_results import accuracy_by_training_paths, first_correct_samples

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_funnel_has_one_row_per_model_and_the_union():
    counts = pd.DataFrame({"model": ["b", "a"], "sampled": [8, 8], "correct": [4, None]})
    pools = pd.DataFrame({"pool": ["own:b", "union"], "distinct": [3, 3]})
    assert funnel_table(counts, pools).to_dict("records") == [
        {"model": "a", "sampled": 8, "correct": 0, "correct %": "0.0", "distinct": 0},
        {"model": "b", "sampled": 8, "correct": 4, "correct %": "50.0", "distinct": 3},
        {"model": "union", "sampled": 16, "correct": 4, "correct %": "25.0", "distinct": 3},
    ]


def test_the_funnel_of_chosen_models_keeps_their_order_and_its_union_counts_every_model():
    counts = pd.DataFrame({"model": ["a", "b", "c"], "sampled": [8, 8, 4], "correct": [2, 4, 1]})
    pools = pd.DataFrame({"pool": ["own:a", "own:b", "own:c", "union"], "distinct": [2, 3, 1, 5]})
    assert funnel_table(counts, pools, ["b", "new"]).to_dict("records") == [
        {"model": "b", "sampled": 8, "correct": 4, "correct %": "50.0", "distinct": 3},
        {"model": "new", "sampled": 0, "correct": 0, "correct %": "-", "distinct": 0},
        {"model": "union", "sampled": 20, "correct": 7, "correct %": "35.0", "distinct": 5},
    ]


def test_sft_vs_rft_shows_each_accuracy_with_its_interval_and_the_change():
    accuracy = pd.DataFrame({
        "model": ["a", "a", "a", "b"], "stage": ["sft", "rft", "rft", "sft"],
        "training_set": ["sft", "own:a", "union", "sft"],
        "accuracy": [0.2, 0.25, 0.3, 0.1], "ci_low": [0.1, 0.15, 0.2, 0.05], "ci_high": [0.3, 0.35, 0.4, 0.2],
    })
    assert sft_vs_rft(accuracy).to_dict("records") == [
        {"model": "a", "SFT": "20.0 [10.0-30.0]", "RFT own": "25.0 [15.0-35.0] (+5.0)",
         "RFT union": "30.0 [20.0-40.0] (+10.0)"},
        {"model": "b", "SFT": "10.0 [5.0-20.0]", "RFT own": "-", "RFT union": "-"},
    ]
    assert with_interval(0.4151, 0.36, 0.4725) == "41.5 [36.0-47.2]"


def test_plots_are_png_images_for_markdown_metadata():
    curve = pd.DataFrame({"model": ["a", "a"], "k": [1, 2], "n_questions": [2, 2], "n_solved": [1, 2],
                          "pass_at_k": [0.5, 1.0]})
    points = pd.DataFrame({"model": ["a", "a"], "training_set": ["sft", "union"], "distinct_paths": [0, 5],
                           "accuracy": [0.2, 0.3], "ci_low": [0.1, 0.2], "ci_high": [0.3, 0.4]})
    for png in (pass_at_k_plot(curve), accuracy_vs_paths_plot(points), pass_at_k_plot(curve.iloc[:0])):
        assert png.startswith(PNG)
    assert markdown_image(PNG, "pass@k") == "![pass@k](data:image/png;base64,iVBORw0KGgo=)"


def test_first_correct_samples_per_model_and_question(spark):
    verified = spark.createDataFrame(
        [("a", "q1", 0, False), ("a", "q1", 1, True), ("a", "q1", 2, True), ("a", "q2", 0, False),
         ("b", "q1", 0, True)],
        "model string, question_id string, sample_idx int, is_correct boolean",
    )
    rows = sorted(tuple(r) for r in first_correct_samples(verified).collect())
    assert rows == [("a", "q1", 3, 1), ("a", "q2", 1, None), ("b", "q1", 1, 0)]


def test_accuracy_points_use_the_paths_each_checkpoint_was_trained_on(spark):
    evals = spark.createDataFrame(
        [("a", "sft", "sft", "maj1@1", 10, 2, 0.2, 0.1, 0.3), ("a", "rft", "union", "maj1@1", 10, 3, 0.3, 0.2, 0.4),
         ("a", "rft", "union", "maj1@4", 10, 4, 0.4, 0.3, 0.5)],
        "model string, stage string, training_set string, metric string, n_test int, n_correct int, "
        "accuracy double, ci_low double, ci_high double",
    )
    models = spark.createDataFrame(
        [("a", "sft", "sft", '{"sft_rows": 40}'), ("a", "rft", "union", '{"sft_rows": 40, "rft_rows": 7}')],
        "model string, stage string, training_set string, data_manifest string",
    )
    points = [(r.training_set, r.distinct_paths, r.accuracy) for r in accuracy_by_training_paths(evals, models).collect()]
    assert points == [("sft", 0, 0.2), ("union", 7, 0.3)]  # greedy only
