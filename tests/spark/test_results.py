"""The numbers behind the report and the plots, on tiny inputs."""

import pandas as pd

from rft.reporting.run_plots import accuracy_vs_paths_plot, markdown_image, pass_at_k_plot
from rft.reporting.result_tables import funnel_table, with_interval
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


def test_accuracy_is_shown_in_percent_with_its_interval():
    assert with_interval(0.4151, 0.36, 0.4725) == "41.5 [36.0-47.2]"


def test_plots_are_png_images_for_markdown_metadata():
    curve = pd.DataFrame({"model": ["a", "a"], "k": [1, 2], "n_questions": [2, 2], "n_solved": [1, 2],
                          "pass_at_k": [0.5, 1.0]})
    points = pd.DataFrame({"model": ["a"] * 4, "stage": ["sft", "rft", "rft", "sft_matched"],
                           "training_set": ["sft", "union", "union", "union"], "seed": [42, 42, 43, 42],
                           "distinct_paths": [0, 5, 5, 0], "x_paths": [0, 5, 5, 5],
                           "accuracy": [0.2, 0.3, 0.4, 0.25], "ci_low": [0.1, 0.2, 0.3, 0.15], "ci_high": [0.3, 0.4, 0.5, 0.35]})
    for png in (pass_at_k_plot(curve), accuracy_vs_paths_plot(points), accuracy_vs_paths_plot(points.iloc[:0]),
                pass_at_k_plot(curve.iloc[:0])):
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
        [("a", "sft", "sft", 42, "maj1@1", 10, 2, 0.2, 0.1, 0.3), ("a", "rft", "union", 42, "maj1@1", 10, 3, 0.3, 0.2, 0.4),
         ("a", "rft", "union", 42, "maj1@4", 10, 4, 0.4, 0.3, 0.5),
         ("a", "sft_matched", "union", 42, "maj1@1", 10, 2, 0.2, 0.1, 0.3)],
        "model string, stage string, training_set string, seed int, metric string, n_test int, n_correct int, "
        "accuracy double, ci_low double, ci_high double",
    ).selectExpr("*", "9 AS n_steps", "CAST(90 AS BIGINT) AS n_tokens", "'10' AS grades")
    models = spark.createDataFrame(
        [("a", "sft", "sft", 42, '{"sft_rows": 40}'), ("a", "rft", "union", 42, '{"sft_rows": 40, "rft_rows": 7}'),
         ("a", "sft_matched", "union", 42, '{"sft_rows": 40, "matches": {"stage": "rft"}}')],
        "model string, stage string, training_set string, seed int, data_manifest string",
    )
    points = [(r.stage, r.training_set, r.distinct_paths, r.x_paths, r.accuracy)
              for r in accuracy_by_training_paths(evals, models).collect()]
    # greedy only; the control trained on no paths stands beside the RFT run it matches
    assert points == [("sft", "sft", 0, 0, 0.2), ("sft_matched", "union", 0, 7, 0.2), ("rft", "union", 7, 7, 0.3)]
