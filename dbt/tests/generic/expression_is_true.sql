-- Fails on every row where `expression` is false: a rule each row must keep, such as
-- `n_distinct <= n_correct and n_correct <= n_sampled`. A null result passes (unknown is not
-- a violation), so say `x is not null and ...` where null is wrong too.
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
