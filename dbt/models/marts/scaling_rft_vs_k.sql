-- One row per RFT cell of the RFT-vs-k study (newest settings of each model), with the model's
-- fitted law accuracy = a + b ln(k) and the correlation of accuracy with distinct paths, and
-- beside it its step-matched SFT control cell (arm sft_matched: the SFT data alone for the same
-- optimizer steps, same k and seed) and RFT's gain over it. The law is fitted to RFT cells only.
-- The Python owner is rft.studies.study_summary (fits: rft.studies.fits); tests/dagster/test_dbt_marts.py
-- checks the two agree.
with all_cells as (
    {{ current_study_cells('rft_vs_k') }}
),

current_cells as (
    select * from all_cells where arm is null or arm <> 'sft_matched'
),

controls as (
    select model, x, seed, accuracy as matched_accuracy, n_steps as matched_n_steps, cell_id as matched_cell_id
    from all_cells
    where arm = 'sft_matched'
),

fits as (
    select
        model,
        count(*) as n_cells,
        -- null below two distinct k, like rft.studies.fits
        regr_intercept(accuracy, ln(x)) as law_intercept,
        regr_slope(accuracy, ln(x)) as law_slope,
        case when var_pop(accuracy) > 0 then regr_r2(accuracy, ln(x)) end as law_r2,
        corr(accuracy, distinct_paths) as corr_accuracy_distinct_paths
    from current_cells
    group by model
),

final as (
    select
        c.model,
        cast(c.x as int) as k,
        c.seed,
        c.distinct_paths,
        c.n_sft_rows,
        c.n_steps,
        c.n_test,
        c.n_correct,
        c.accuracy,
        c.ci_low,
        c.ci_high,
        f.n_cells,
        f.law_intercept,
        f.law_slope,
        f.law_r2,
        f.corr_accuracy_distinct_paths,
        m.matched_accuracy,
        m.matched_n_steps,
        c.accuracy - m.matched_accuracy as gain_vs_matched,
        c.cell_id,
        m.matched_cell_id
    from current_cells as c
    inner join fits as f on c.model = f.model
    left join controls as m on c.model = m.model and c.x = m.x and c.seed = m.seed
)

select * from final
