-- Without the texts: marts count paths, and a text can be megabytes long.
with sampled as (
    select * from {{ source('rft', 'sampled_paths') }}
),

final as (
    select
        path_id,
        model,
        question_id,
        sample_idx,
        seed,
        temperature,
        backend,
        length(text) as n_chars,
        run_id
    from sampled
)

select * from final
