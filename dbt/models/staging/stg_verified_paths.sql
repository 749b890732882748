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
        answer,
        gold_answer,
        equation_list,
        n_equations,
        reject_reason,
        -- `equation_2:false_equation` -> `equation_2`: the family of the reason
        split(reject_reason, ':')[0] as reject_kind,
        filter_version,
        coalesce(round, 0) as round  -- null before rounds existed: round 0
    from verified
)

select * from final
