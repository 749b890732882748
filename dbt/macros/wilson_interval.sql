{#
  The 95% Wilson score interval of a proportion correct/n, as rft.evaluation.significance.wilson_interval
  (the Python owner, which writes eval_results' and study_results' intervals): sane at 0%, 100% and
  small n; (0, 1) when n is 0. Used where cells are pooled over seeds; tests/dagster/test_dbt_marts.py
  checks the pooled intervals against rft.studies.contrasts.
#}
{% macro wilson_bound(correct, n, side) %}
    case when {{ n }} = 0 then {{ 0 if side == 'low' else 1 }} else
        {{ 'greatest(0.0, least(' if side == 'low' else 'least(1.0, greatest(' }}
            {{ correct }} / {{ n }},
            (({{ correct }} / {{ n }} + 1.9208 / {{ n }})
             {{ '-' if side == 'low' else '+' }} 1.96 * sqrt(
                ({{ correct }} / {{ n }}) * (1 - {{ correct }} / {{ n }}) / {{ n }} + 0.9604 / power({{ n }}, 2)
            )) / (1 + 3.8416 / {{ n }})
        ))
    end
{% endmacro %}

{#
  Newcombe's interval of a difference of two proportions (a - b) from their Wilson intervals, as
  rft.studies.contrasts.difference (the Python owner): independent evaluations.
#}
{% macro newcombe_low(a, a_low, b, b_high) %}
    ({{ a }} - {{ b }}) - sqrt(power({{ a }} - {{ a_low }}, 2) + power({{ b_high }} - {{ b }}, 2))
{% endmacro %}

{% macro newcombe_high(a, a_high, b, b_low) %}
    ({{ a }} - {{ b }}) + sqrt(power({{ a_high }} - {{ a }}, 2) + power({{ b }} - {{ b_low }}, 2))
{% endmacro %}
