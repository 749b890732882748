-- Per model: how many paths were sampled, how many passed the filter, how many are distinct.
with verified as (
    select * from {{ ref('stg_verified_paths') }}
),

distinct_own as (
    select substring(pool, 5) as model, count(*) as n_distinct
    from {{ source('rft', 'distinct_paths') }}
    where pool like 'own:%'
    group by 1
),

counts as (
    select
        model,
        count(*) as n_sampled,
        sum(cast(is_correct as int)) as n_correct
    from verified
    group by model
),

final as (
    select
        counts.model,
        counts.n_sampled,
        counts.n_correct,
        coalesce(distinct_own.n_distinct, 0) as n_distinct
    from counts
    left join distinct_own on counts.model = distinct_own.model
)

select * from final
