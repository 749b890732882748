-- Fails on every combination of `columns` that occurs more than once: the key of a table
-- whose rows are identified by several columns (model, stage, training_set, ...).
{% test unique_key(model, columns) %}

select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
