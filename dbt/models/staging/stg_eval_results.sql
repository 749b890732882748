with evals as (
    select * from {{ source('rft', 'eval_results') }}
),

final as (
    select
        model,
        stage,
        training_set,
        -- sft, own (a model's own paths) or union: what the checkpoint was trained on (set names:
        -- rft.filter.pools)
        case
            when training_set like 'own:%' then 'own'
            when training_set like 'union@r%' then 'union'
            else training_set
        end as training_set_kind,
        coalesce(round, 0) as round,  -- null before rounds existed: round 0
        seed,
        metric,
        n_test,
        n_correct,
        accuracy,
        ci_low,
        ci_high,
        checkpoint,
        run_id,
        n_steps,
        n_tokens
    from evals
)

select * from final
