-- Per pool (each model's own paths, and the union of all models): how many distinct reasoning
-- paths a question gets, over the questions sampled and over those solved at least once.
-- Its n_sampled, n_correct and n_distinct per pool are the paths funnel, which Python owns
-- (spark_jobs.run_results.funnel_counts: the CLI summaries, `rft report`); kept here for SQL
-- users, and tests/dagster/test_dbt_marts.py checks the two agree.
with question_counts as (
    select * from {{ ref('question_path_counts') }}
),

final as (
    select
        pool,
        max(model) as model,
        count_if(n_sampled > 0) as n_questions,
        count_if(n_correct > 0) as n_solved,
        sum(n_sampled) as n_sampled,
        sum(n_correct) as n_correct,
        sum(n_distinct) as n_distinct,
        try_divide(sum(n_distinct), count_if(n_sampled > 0)) as distinct_per_question,
        try_divide(sum(n_distinct), count_if(n_correct > 0)) as distinct_per_solved_question,
        max(n_distinct) as max_distinct_per_question
    from question_counts
    group by pool
)

select * from final
