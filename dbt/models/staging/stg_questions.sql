with questions as (
    select * from {{ source('rft', 'questions') }}
),

final as (
    select
        question_id,
        split,
        question,
        gold_answer,
        source
    from questions
)

select * from final
