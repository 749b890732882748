-- One row per trained checkpoint (model, stage, training set), as rft.models holds it.
select
    model, stage, training_set, checkpoint, base, method,
    n_examples, n_steps, final_loss, tokens_per_s, seconds, run_id
from {{ source('rft', 'models') }}
