with verified as (
    select * from {{ source('rft', 'verified_paths') }}
),

final as (
    select
        path_id,
        model,
        question_id,
        sample_idx,
        is_correct,
        split(reject_reason, ':')[0] as reject_kind,
        equation_list
    from verified
)

select * from final
