with dataset_rows as (
    select * from {{ source('rft', 'rft_dataset_rows') }}
),

final as (
    select
        dataset,
        question_id,
        path_id,
        model,
        equation_list
    from dataset_rows
)

select * from final
