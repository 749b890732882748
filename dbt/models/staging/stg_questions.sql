-- Staging views that only pick columns select straight from the source: one row per question.
select question_id, split, question, gold_answer, source
from {{ source('rft', 'questions') }}
