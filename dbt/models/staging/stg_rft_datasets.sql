with datasets as (
    select * from {{ source('rft', 'rft_datasets') }}
),

final as (
    select
        dataset,
        pool,
        source_models,
        size(source_models) as n_source_models,
        k,
        temperature,
        filter_version,
        n_rft_rows,
        n_sft_rows,
        n_questions,
        created_run_id
    from datasets
)

select * from final
