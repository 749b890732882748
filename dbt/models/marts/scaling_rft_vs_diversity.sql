-- One row per cell of the RFT-vs-diversity study (newest settings of each model): the same
-- number of added paths, chosen distinct, from all correct paths or as repeated duplicates, the
-- step-matched SFT control (selection sft_matched: no paths, the same optimizer steps), and how
-- far the distinct selection is ahead of each other one, the control included, with a 95% interval. Seeds of one
-- selection are pooled, like rft.studies.contrasts, the Python owner; tests/dagster/test_dbt_marts.py
-- checks the two agree.
with current_cells as (
    {{ current_study_cells('rft_vs_diversity') }}
),

pooled as (
    select
        model,
        arm,
        cast(sum(n_correct) as double) as n_correct,
        cast(sum(n_test) as double) as n_test
    from current_cells
    group by model, arm
),

arms as (
    select
        model,
        arm,
        n_correct / n_test as pooled_accuracy,
        {{ wilson_bound('n_correct', 'n_test', 'low') }} as pooled_ci_low,
        {{ wilson_bound('n_correct', 'n_test', 'high') }} as pooled_ci_high
    from pooled
),

compared as (
    select
        a.*,
        case when a.arm <> 'distinct' then d.pooled_accuracy - a.pooled_accuracy end as distinct_advantage,
        case when a.arm <> 'distinct' then
            {{ newcombe_low('d.pooled_accuracy', 'd.pooled_ci_low', 'a.pooled_accuracy', 'a.pooled_ci_high') }}
        end as distinct_advantage_ci_low,
        case when a.arm <> 'distinct' then
            {{ newcombe_high('d.pooled_accuracy', 'd.pooled_ci_high', 'a.pooled_accuracy', 'a.pooled_ci_low') }}
        end as distinct_advantage_ci_high
    from arms as a
    left join arms as d on a.model = d.model and d.arm = 'distinct'
),

final as (
    select
        c.model,
        c.arm as selection,
        c.seed,
        cast(c.x as int) as n_paths,
        c.distinct_paths,
        c.n_sft_rows,
        c.n_steps,
        c.n_test,
        c.n_correct,
        c.accuracy,
        c.ci_low,
        c.ci_high,
        s.pooled_accuracy,
        s.distinct_advantage,
        s.distinct_advantage_ci_low,
        s.distinct_advantage_ci_high,
        s.distinct_advantage_ci_low > 0 as is_distinct_ahead,
        c.cell_id
    from current_cells as c
    inner join compared as s on c.model = s.model and c.arm = s.arm
)

select * from final
