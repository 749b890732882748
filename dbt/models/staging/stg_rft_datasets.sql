-- One row per RFT training set: its manifest, with the number of models it draws from.
select
    dataset, pool, source_models, size(source_models) as n_source_models,
    k, temperature, filter_version, n_rft_rows, n_sft_rows, n_questions, created_run_id,
    coalesce(round, 0) as round
from {{ source('rft', 'rft_datasets') }}
