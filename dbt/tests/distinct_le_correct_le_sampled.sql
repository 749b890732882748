-- A model can never have more distinct paths than correct ones, or more correct than sampled.
select *
from {{ ref('model_funnel') }}
where n_distinct > n_correct or n_correct > n_sampled
