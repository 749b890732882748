{#
  The cells of one study that a law is fitted on. rft.study_results keeps the cells of every
  setting tried; a law fits one setting's cells: the settings (everything but x and the seed,
  `config.fixed`) of each model's most recently computed cell.
#}
{% macro current_study_cells(study) %}
    select cells.*, get_json_object(cells.config, '$.fixed') as fixed_settings
    from {{ ref('stg_study_results') }} as cells
    inner join (
        select model, max_by(get_json_object(config, '$.fixed'), computed_at) as fixed_settings
        from {{ ref('stg_study_results') }}
        where study = '{{ study }}'
        group by model
    ) as newest
        on cells.model = newest.model and get_json_object(cells.config, '$.fixed') = newest.fixed_settings
    where cells.study = '{{ study }}'
{% endmacro %}
