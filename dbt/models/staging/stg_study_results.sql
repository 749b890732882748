-- One row per cell of a scaling study (or one measurement of the loss study).
select
    study, model, cell_id, varies, x, seed,
    distinct_paths, n_sft_rows, n_examples, n_steps,
    n_test, n_correct, accuracy, ci_low, ci_high,
    config, checkpoint, run_id, computed_at, arm, n_params, n_tokens
from {{ source('rft', 'study_results') }}
