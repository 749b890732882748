with checkpoints as (
    select * from {{ source('rft', 'models') }}
),

final as (
    select
        model,
        stage,
        training_set,
        checkpoint,
        base,
        method,
        n_examples,
        n_steps,
        final_loss,
        tokens_per_s,
        seconds,
        run_id
    from checkpoints
)

select * from final
