-- Every evaluated checkpoint (every seed) ranked by test accuracy within its metric, next to the
-- SFT checkpoint of the same model and seed and, for an RFT checkpoint, its step-matched SFT
-- control (stage sft_matched: the SFT data alone for exactly its optimizer steps, same seed):
-- RFT's gain over each with a 95% interval, and the training steps and tokens of all three
-- (the paper's protocol gives RFT more steps than SFT; the control takes as many as RFT).
with evals as (
    select * from {{ ref('stg_eval_results') }}
),

checkpoints as (
    select * from {{ ref('stg_models') }}
),

trained as (
    select
        evals.*,
        checkpoints.n_examples as n_train_examples,
        coalesce(evals.n_steps, checkpoints.n_steps) as n_train_steps,
        coalesce(evals.n_tokens, checkpoints.n_tokens) as n_train_tokens
    from evals
    left join checkpoints
        on evals.model = checkpoints.model
        and evals.stage = checkpoints.stage
        and evals.training_set = checkpoints.training_set
        and evals.seed = checkpoints.seed
),

sft as (
    select
        model, seed, metric,
        accuracy as sft_accuracy, ci_low as sft_ci_low, ci_high as sft_ci_high, n_train_steps as sft_n_steps
    from trained
    where stage = 'sft'
),

matched as (
    select
        model, training_set, seed, metric,
        accuracy as matched_accuracy, ci_low as matched_ci_low, ci_high as matched_ci_high,
        n_train_steps as matched_n_steps
    from trained
    where stage = 'sft_matched'
),

joined as (
    select
        trained.*,
        sft.sft_accuracy,
        sft.sft_ci_low,
        sft.sft_ci_high,
        sft.sft_n_steps,
        matched.matched_accuracy,
        matched.matched_ci_low,
        matched.matched_ci_high,
        matched.matched_n_steps,
        case when trained.stage <> 'sft' then trained.accuracy - sft.sft_accuracy end as gain,
        case when trained.stage = 'rft' then trained.accuracy - matched.matched_accuracy end as gain_vs_matched
    from trained
    left join sft
        on trained.model = sft.model
        and trained.seed = sft.seed
        and trained.metric = sft.metric
    left join matched
        on trained.stage = 'rft'
        and trained.model = matched.model
        and trained.training_set = matched.training_set
        and trained.seed = matched.seed
        and trained.metric = matched.metric
),

gains as (
    -- Newcombe's interval for a difference of proportions, built from the two Wilson
    -- intervals in eval_results (as rft.studies.contrasts.difference). It treats the two evaluations
    -- as independent; on the same test questions they are positively correlated, so the interval
    -- errs on the wide side (`rft run` and `rft report` print the exact paired test).
    select
        *,
        case when stage <> 'sft' then
            {{ newcombe_low('accuracy', 'ci_low', 'sft_accuracy', 'sft_ci_high') }}
        end as gain_ci_low,
        case when stage <> 'sft' then
            {{ newcombe_high('accuracy', 'ci_high', 'sft_accuracy', 'sft_ci_low') }}
        end as gain_ci_high,
        case when gain_vs_matched is not null then
            {{ newcombe_low('accuracy', 'ci_low', 'matched_accuracy', 'matched_ci_high') }}
        end as gain_vs_matched_ci_low,
        case when gain_vs_matched is not null then
            {{ newcombe_high('accuracy', 'ci_high', 'matched_accuracy', 'matched_ci_low') }}
        end as gain_vs_matched_ci_high
    from joined
),

final as (
    select
        rank() over (partition by metric order by accuracy desc) as rank,
        model,
        stage,
        training_set,
        training_set_kind,
        seed,
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
        matched_accuracy,
        matched_ci_low,
        matched_ci_high,
        gain_vs_matched,
        gain_vs_matched_ci_low,
        gain_vs_matched_ci_high,
        gain_vs_matched_ci_low > 0 as is_gain_vs_matched_significant,
        n_train_examples,
        n_train_steps,
        n_train_tokens,
        sft_n_steps,
        matched_n_steps
    from gains
)

select * from final
