-- One row per distinct path of an RFT training set.
select dataset, question_id, path_id, model, equation_list, coalesce(round, 0) as round
from {{ source('rft', 'rft_dataset_rows') }}
