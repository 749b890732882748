with distinct_paths as (
    select * from {{ source('rft', 'distinct_paths') }}
),

final as (
    select
        pool,  -- own:<model> or union, as rft.filter.pools names them
        case when pool = 'union' then 'union' else 'own' end as pool_kind,
        -- the model of an `own:<model>` pool; null for the union
        case when pool like 'own:%' then substring(pool, 5) end as pool_model,
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
