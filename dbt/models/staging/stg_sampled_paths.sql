-- One row per sampled path, without its text: marts count paths, and a text can be megabytes long.
select
    path_id, model, question_id, sample_idx, seed, temperature, backend,
    length(text) as n_chars, n_new_tokens, finish_reason, run_id,
    coalesce(round, 0) as round  -- null before rounds existed: round 0
from {{ source('rft', 'sampled_paths') }}
