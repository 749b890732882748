-- One row per trained checkpoint (model, stage, training set, seed), as rft.models holds it.
select
    model, stage, training_set, seed, checkpoint, base, method,
    n_examples, n_steps, n_tokens, final_loss, tokens_per_s, seconds, run_id,
    coalesce(round, 0) as round
from {{ source('rft', 'models') }}
