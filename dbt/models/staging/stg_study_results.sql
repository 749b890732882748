with cells as (
    select * from {{ source('rft', 'study_results') }}
),

final as (
    select
        study,
        model,
        cell_id,
        varies,
        x,
        seed,
        distinct_paths,
        n_sft_rows,
        n_examples,
        n_steps,
        n_test,
        n_correct,
        accuracy,
        ci_low,
        ci_high,
        config,
        checkpoint,
        run_id,
        computed_at,
        arm,
        n_params,
        n_tokens
    from cells
)

select * from final
