-- One row per cell of the SFT-vs-data study (newest settings of each model), with the model's
-- fitted log-linear law accuracy = a + b ln(SFT examples) and its R^2.
-- The Python owner is rft.studies.study_summary (fits: rft.studies.fits); tests/dagster/test_dbt_marts.py
-- checks the two agree.
with current_cells as (
    {{ current_study_cells('sft_vs_data') }}
),

fits as (
    select
        model,
        count(*) as n_cells,
        regr_intercept(accuracy, ln(n_sft_rows)) as law_intercept,
        regr_slope(accuracy, ln(n_sft_rows)) as law_slope,
        case when var_pop(accuracy) > 0 then regr_r2(accuracy, ln(n_sft_rows)) end as law_r2
    from current_cells
    group by model
),

final as (
    select
        c.model,
        c.x as fraction,
        c.seed,
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
        c.cell_id
    from current_cells as c
    inner join fits as f on c.model = f.model
)

select * from final
