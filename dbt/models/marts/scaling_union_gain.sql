-- One row per model: its RFT checkpoint on its own distinct paths next to the one on the union
-- of every model's, as eval_results scored them (newest cells of the union-gain study), and the
-- union's gain with a 95% interval. The Python owner is rft.studies.contrasts; tests/dagster/test_dbt_marts.py
-- checks the two agree.
with current_cells as (
    {{ current_study_cells('union_gain') }}
),

own as (
    select * from current_cells where arm = 'own'
),

union_set as (
    select * from current_cells where arm = 'union'
),

final as (
    select
        own.model,
        own.distinct_paths as own_distinct_paths,
        union_set.distinct_paths as union_distinct_paths,
        own.n_test,
        own.accuracy as own_accuracy,
        own.ci_low as own_ci_low,
        own.ci_high as own_ci_high,
        union_set.accuracy as union_accuracy,
        union_set.ci_low as union_ci_low,
        union_set.ci_high as union_ci_high,
        union_set.accuracy - own.accuracy as gain,
        {{ newcombe_low('union_set.accuracy', 'union_set.ci_low', 'own.accuracy', 'own.ci_high') }} as gain_ci_low,
        {{ newcombe_high('union_set.accuracy', 'union_set.ci_high', 'own.accuracy', 'own.ci_low') }} as gain_ci_high,
        {{ newcombe_low('union_set.accuracy', 'union_set.ci_low', 'own.accuracy', 'own.ci_high') }} > 0
            as is_gain_significant,
        own.n_steps as own_n_steps,
        union_set.n_steps as union_n_steps,
        own.cell_id as own_cell_id,
        union_set.cell_id as union_cell_id
    from own
    inner join union_set on own.model = union_set.model
)

select * from final
