-- One row per (model, stage): the base model's held-out loss and parameters next to its SFT or
-- RFT (own paths) greedy accuracy, with the lines fitted across models at that stage:
-- accuracy = a + b * loss and accuracy = a + b * ln(parameters), and Pearson's r of each.
-- Each model's newest loss cell counts, when measured like the newest of all (same corpus and task).
-- The Python owner is rft.studies.pretrain_loss (Dagit metadata, `rft studies show`, `rft report`);
-- tests/dagster/test_dbt_marts.py checks the two agree. own:<model> is rft.filter.pools' name.
with losses as (
    select * from {{ ref('stg_study_results') }} where study = 'pretrain_loss'
),

evals as (
    select * from {{ ref('stg_eval_results') }}
),

newest_per_model as (
    select
        model,
        max_by(cell_id, computed_at) as cell_id,
        max(computed_at) as computed_at
    from losses
    group by model
),

measured as (
    select
        l.model,
        l.cell_id,
        l.x as loss,
        l.n_params,
        l.n_tokens,
        l.n_test as n_texts,
        get_json_object(l.config, '$.fixed.corpus') as corpus,
        get_json_object(l.config, '$.fixed.task') as task,
        l.computed_at
    from losses as l
    inner join newest_per_model as n on l.model = n.model and l.cell_id = n.cell_id
),

comparable as (
    select m.*
    from measured as m
    inner join (select max_by(corpus, computed_at) as corpus, max_by(task, computed_at) as task from measured) as ref
        on m.corpus = ref.corpus and m.task = ref.task
),

accuracies as (
    select model, stage, n_test, n_correct, accuracy, ci_low, ci_high
    from evals
    where metric = 'maj1@1'
        and ((stage = 'sft' and training_set = 'sft') or (stage = 'rft' and training_set = concat('own:', model)))
),

joined as (
    select c.*, a.stage, a.n_test, a.n_correct, a.accuracy, a.ci_low, a.ci_high
    from comparable as c
    inner join accuracies as a on c.model = a.model
),

fits as (
    select
        stage,
        count(*) as n_models,
        regr_intercept(accuracy, loss) as loss_intercept,
        regr_slope(accuracy, loss) as loss_slope,
        corr(accuracy, loss) as loss_pearson_r,
        regr_intercept(accuracy, ln(n_params)) as params_intercept,
        regr_slope(accuracy, ln(n_params)) as params_slope,
        corr(accuracy, ln(n_params)) as params_pearson_r
    from joined
    group by stage
),

final as (
    select
        j.model,
        j.stage,
        j.loss,
        j.n_params,
        j.n_tokens,
        j.n_texts,
        j.n_test,
        j.n_correct,
        j.accuracy,
        j.ci_low,
        j.ci_high,
        f.n_models,
        f.loss_intercept,
        f.loss_slope,
        f.loss_pearson_r,
        f.params_intercept,
        f.params_slope,
        f.params_pearson_r,
        j.cell_id
    from joined as j
    inner join fits as f on j.stage = f.stage
)

select * from final
