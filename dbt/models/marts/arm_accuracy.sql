-- One row per arm (model, stage, training set, metric): its accuracy over training seeds (mean,
-- sample standard deviation, min, max) with the steps and tokens it trained for. An RFT arm sits
-- beside its step-matched SFT control (stage sft_matched, same training set): the control's mean
-- and the difference of the means. The paired test over questions and seeds, with Holm's
-- adjustment, needs per-question grades: `rft run` and `rft report` print it
-- (rft.evaluation.significance owns the statistics).
with trained as (
    select * from {{ ref('accuracy_leaderboard') }}
),

arms as (
    select
        model,
        stage,
        training_set,
        training_set_kind,
        metric,
        count(*) as n_seeds,
        avg(accuracy) as mean_accuracy,
        stddev_samp(accuracy) as sd_accuracy,
        min(accuracy) as min_accuracy,
        max(accuracy) as max_accuracy,
        min(n_train_steps) as min_train_steps,
        max(n_train_steps) as max_train_steps,
        avg(n_train_tokens) as mean_train_tokens
    from trained
    group by model, stage, training_set, training_set_kind, metric
),

final as (
    select
        arms.*,
        controls.n_seeds as matched_n_seeds,
        controls.mean_accuracy as matched_mean_accuracy,
        controls.sd_accuracy as matched_sd_accuracy,
        controls.max_train_steps as matched_max_train_steps,
        case when arms.stage = 'rft' then arms.mean_accuracy - controls.mean_accuracy end as mean_gain_vs_matched
    from arms
    left join arms as controls
        on arms.stage = 'rft'
        and controls.stage = 'sft_matched'
        and arms.model = controls.model
        and arms.training_set = controls.training_set
        and arms.metric = controls.metric
)

select * from final
