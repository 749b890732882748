-- Per model: how many questions had 0, 1, ..., k of their k samples correct. Every bucket is
-- listed, empty ones with 0 questions, so the histogram has no gaps.
with question_counts as (
    select * from {{ ref('question_path_counts') }}
    where pool <> 'union' and n_sampled > 0  -- each model's own pool (names: rft.filter.pools)
),

totals as (
    select model, n_sampled as n_samples, count(*) as n_questions_sampled
    from question_counts
    group by model, n_sampled
),

buckets as (
    select model, n_samples, n_questions_sampled, explode(sequence(0, n_samples)) as n_correct
    from totals
),

observed as (
    select model, n_sampled as n_samples, n_correct, count(*) as n_questions
    from question_counts
    group by model, n_sampled, n_correct
),

final as (
    select
        buckets.model,
        buckets.n_samples,
        buckets.n_correct,
        buckets.n_correct / buckets.n_samples as share_correct,
        coalesce(observed.n_questions, 0) as n_questions,
        coalesce(observed.n_questions, 0) / buckets.n_questions_sampled as share_of_questions
    from buckets
    left join observed
        on buckets.model = observed.model
        and buckets.n_samples = observed.n_samples
        and buckets.n_correct = observed.n_correct
)

select * from final
