with distinct_paths as (
    select * from {{ source('rft', 'distinct_paths') }}
),

final as (
    select
        pool,  -- own:<model> or union, with @r<round> after round 0, as rft.filter.pools names them
        case when pool = 'union' or pool like 'union@r%' then 'union' else 'own' end as pool_kind,
        -- the model of an `own:<model>` pool; null for the union
        case when pool like 'own:%' then regexp_replace(substring(pool, 5), '@r[0-9]+$', '') end as pool_model,
        coalesce(round, 0) as round,
        question_id,
        equation_list,
        path_id,
        model,
        diversity_score,
        n_producers,
        size(producer_models) as n_producer_models,
        filter_version
    from distinct_paths
)

select * from final
