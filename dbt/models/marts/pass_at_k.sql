-- pass@k per model: the share of the questions a model was sampled on that have at least one
-- correct path among their first k samples (sample_idx < k), for k = 1, 2, 4, ... below the
-- model's sampled k, and that k itself. A path without a verdict counts as not correct.
-- The Python owner is rft.evaluation.pass_at_k (the Dagit plot, `rft report`); kept here for SQL
-- users, and tests/dagster/test_dbt_marts.py checks the two agree.
with sampled as (
    select * from {{ ref('stg_sampled_paths') }}
    where round = 0  -- k samples of one round (rounds: round_progress)
),

verified as (
    select * from {{ ref('stg_verified_paths') }}
),

paths as (
    select
        sampled.model,
        sampled.question_id,
        sampled.sample_idx,
        coalesce(verified.is_correct, false) as is_correct
    from sampled
    left join verified on sampled.path_id = verified.path_id
),

questions as (
    -- pass@k of one question is 1 exactly when its first correct sample comes before k
    select
        model,
        question_id,
        min(case when is_correct then sample_idx end) as first_correct_idx
    from paths
    group by model, question_id
),

models as (
    select
        model,
        max(sample_idx) + 1 as k_sampled,
        count(distinct question_id) as n_questions
    from paths
    group by model
),

ks as (
    -- powers of two below the sampled k, then the sampled k: integers only, no log2 rounding
    select
        model,
        k_sampled,
        n_questions,
        explode(concat(
            filter(transform(sequence(0, 30), e -> shiftleft(1, e)), k -> k < k_sampled),
            array(k_sampled)
        )) as k
    from models
),

final as (
    select
        ks.model,
        ks.k,
        ks.k_sampled,
        ks.n_questions,
        count_if(questions.first_correct_idx < ks.k) as n_solved,
        count_if(questions.first_correct_idx < ks.k) / ks.n_questions as pass_at_k
    from ks
    inner join questions on ks.model = questions.model
    group by ks.model, ks.k, ks.k_sampled, ks.n_questions
)

select * from final
