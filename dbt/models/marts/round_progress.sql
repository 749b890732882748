-- One row per (model, round) of RFT in rounds: how much of the train split the round's samples
-- solve, how many distinct paths the round's own pool holds and how many of them the previous
-- round's pool lacked, and the round's RFT accuracy (own paths, greedy, mean over seeds) beside
-- its step-matched SFT control and the previous round. Round 0 is the paper's single round.
-- The paired tests (round against round, RFT against control) need per-question grades:
-- `rft rounds list` and `rft report` print them (rft.evaluation.significance).
with verified as (
    select * from {{ ref('stg_verified_paths') }}
),

own_pools as (
    select * from {{ ref('stg_distinct_paths') }}
    where pool_kind = 'own'
),

evals as (
    select * from {{ ref('stg_eval_results') }}
    where metric = 'maj1@1' and training_set_kind = 'own' and stage in ('rft', 'sft_matched')
),

solved as (
    select
        model,
        round,
        count(distinct question_id) as n_questions,
        count(distinct case when is_correct then question_id end) as n_solved,
        count(*) as n_sampled,
        count_if(is_correct) as n_correct
    from verified
    group by model, round
),

pool_sizes as (
    select
        current_pool.pool_model as model,
        current_pool.round,
        count(*) as n_distinct,
        -- in this round's pool and not in the previous round's (every one in round 0)
        count_if(previous_pool.question_id is null) as n_new_distinct
    from own_pools as current_pool
    left join own_pools as previous_pool
        on current_pool.pool_model = previous_pool.pool_model
        and previous_pool.round = current_pool.round - 1
        and current_pool.question_id = previous_pool.question_id
        and current_pool.equation_list = previous_pool.equation_list
    group by current_pool.pool_model, current_pool.round
),

arms as (
    select
        model,
        round,
        stage,
        count(*) as n_seeds,
        avg(accuracy) as mean_accuracy,
        stddev_samp(accuracy) as sd_accuracy,
        -- the 95% Wilson interval of a single seed; over several seeds, see sd_accuracy
        case when count(*) = 1 then min(ci_low) end as ci_low,
        case when count(*) = 1 then min(ci_high) end as ci_high
    from evals
    group by model, round, stage
),

final as (
    select
        solved.model,
        solved.round,
        solved.n_sampled,
        solved.n_correct,
        solved.n_questions,
        solved.n_solved,
        solved.n_solved / solved.n_questions as share_solved,
        coalesce(pool_sizes.n_distinct, 0) as n_distinct,
        coalesce(pool_sizes.n_new_distinct, 0) as n_new_distinct,
        rft.n_seeds,
        rft.mean_accuracy as rft_accuracy,
        rft.sd_accuracy as rft_sd_accuracy,
        rft.ci_low as rft_ci_low,
        rft.ci_high as rft_ci_high,
        matched.mean_accuracy as matched_accuracy,
        rft.mean_accuracy - matched.mean_accuracy as gain_vs_matched,
        rft.mean_accuracy - lag(rft.mean_accuracy) over (partition by solved.model order by solved.round)
            as gain_vs_previous_round
    from solved
    left join pool_sizes
        on solved.model = pool_sizes.model and solved.round = pool_sizes.round
    left join arms as rft
        on solved.model = rft.model and solved.round = rft.round and rft.stage = 'rft'
    left join arms as matched
        on solved.model = matched.model and solved.round = matched.round and matched.stage = 'sft_matched'
)

select * from final
