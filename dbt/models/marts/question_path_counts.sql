-- Per (pool, question): sampled, correct and distinct paths. Each count comes from its own
-- table (sampled_paths, verified_paths, distinct_paths) and a full join keeps every key, so the
-- rule distinct <= correct <= sampled (tested on this model) checks the tables agree.
-- Pool names are spelled as rft.filter.pools spells them (own:<model>, union).
with sampled as (
    select * from {{ ref('stg_sampled_paths') }}
    where round = 0  -- the paths of round 0, the paper's one round (rounds: round_progress)
),

verified as (
    select * from {{ ref('stg_verified_paths') }}
    where round = 0
),

distinct_paths as (
    select * from {{ ref('stg_distinct_paths') }}
    where round = 0
),

sampled_per_model as (
    select model, question_id, count(*) as n_sampled
    from sampled
    group by model, question_id
),

correct_per_model as (
    select model, question_id, count_if(is_correct) as n_correct
    from verified
    group by model, question_id
),

per_model as (
    select
        concat('own:', coalesce(sampled_per_model.model, correct_per_model.model)) as pool,
        coalesce(sampled_per_model.model, correct_per_model.model) as model,
        coalesce(sampled_per_model.question_id, correct_per_model.question_id) as question_id,
        coalesce(sampled_per_model.n_sampled, 0) as n_sampled,
        coalesce(correct_per_model.n_correct, 0) as n_correct
    from sampled_per_model
    full outer join correct_per_model
        on sampled_per_model.model = correct_per_model.model
        and sampled_per_model.question_id = correct_per_model.question_id
),

per_union as (
    -- the union pools every model's paths
    select
        'union' as pool,
        cast(null as string) as model,
        question_id,
        sum(n_sampled) as n_sampled,
        sum(n_correct) as n_correct
    from per_model
    group by question_id
),

path_counts as (
    select * from per_model
    union all
    select * from per_union
),

distinct_counts as (
    select pool, pool_model, question_id, count(*) as n_distinct
    from distinct_paths
    group by pool, pool_model, question_id
),

final as (
    select
        coalesce(path_counts.pool, distinct_counts.pool) as pool,
        coalesce(path_counts.model, distinct_counts.pool_model) as model,
        coalesce(path_counts.question_id, distinct_counts.question_id) as question_id,
        coalesce(path_counts.n_sampled, 0) as n_sampled,
        coalesce(path_counts.n_correct, 0) as n_correct,
        coalesce(distinct_counts.n_distinct, 0) as n_distinct
    from path_counts
    full outer join distinct_counts
        on path_counts.pool = distinct_counts.pool
        and path_counts.question_id = distinct_counts.question_id
)

select * from final
