-- Every evaluated checkpoint ranked by test accuracy within its metric, next to the SFT
-- checkpoint of the same model: RFT's gain over SFT with a 95% interval, and the training
-- examples and steps of both (the paper's protocol gives RFT more steps than SFT).
with evals as (
    select * from {{ ref('stg_eval_results') }}
),

checkpoints as (
    select * from {{ ref('stg_models') }}
),

sft as (
    select
        evals.model,
        evals.metric,
        evals.accuracy as sft_accuracy,
        evals.ci_low as sft_ci_low,
        evals.ci_high as sft_ci_high,
        checkpoints.n_steps as sft_n_steps
    from evals
    left join checkpoints
        on evals.model = checkpoints.model
        and evals.stage = checkpoints.stage
        and evals.training_set = checkpoints.training_set
    where evals.stage = 'sft'
),

joined as (
    select
        evals.*,
        checkpoints.n_examples as n_train_examples,
        checkpoints.n_steps as n_train_steps,
        sft.sft_accuracy,
        sft.sft_ci_low,
        sft.sft_ci_high,
        sft.sft_n_steps,
        case when evals.stage <> 'sft' then evals.accuracy - sft.sft_accuracy end as gain
    from evals
    left join checkpoints
        on evals.model = checkpoints.model
        and evals.stage = checkpoints.stage
        and evals.training_set = checkpoints.training_set
    left join sft
        on evals.model = sft.model
        and evals.metric = sft.metric
),

gains as (
    -- Newcombe's interval for a difference of proportions, built from the two Wilson
    -- intervals in eval_results (as rft.studies.contrasts.difference). It treats the two evaluations
    -- as independent; on the same test questions they are positively correlated, so the interval
    -- errs on the wide side.
    select
        *,
        case when stage <> 'sft' then
            {{ newcombe_low('accuracy', 'ci_low', 'sft_accuracy', 'sft_ci_high') }}
        end as gain_ci_low,
        case when stage <> 'sft' then
            {{ newcombe_high('accuracy', 'ci_high', 'sft_accuracy', 'sft_ci_low') }}
        end as gain_ci_high
    from joined
),

final as (
    select
        rank() over (partition by metric order by accuracy desc) as rank,
        model,
        stage,
        training_set,
        training_set_kind,
        metric,
        n_test,
        n_correct,
        accuracy,
        ci_low,
        ci_high,
        sft_accuracy,
        sft_ci_low,
        sft_ci_high,
        gain,
        gain_ci_low,
        gain_ci_high,
        gain_ci_low > 0 as is_gain_significant,
        n_train_examples,
        n_train_steps,
        sft_n_steps
    from gains
)

select * from final
