"""rft: Rejection Sampling Fine-Tuning on math word problems, as library code.

Plain Python, torch and pandas: nothing here imports Spark, Dagster or the other top-level
packages (`spark_jobs`, `assets`, `rft_dagster`), so every module runs on a GPU machine that has
only torch, transformers and peft. The subpackages, lowest layer first (a layer may import the
ones below it, never above; `.importlinter` states this and CI checks it):

    home, config   where a run writes; the typed settings (the paper's values as defaults)
    filter         the rejection filter's rules: answers, safe arithmetic, equations, dedup
    task, models   the questions and prompt format; model names, specs, loading, tokenizer
    sampling       request planning and seeds (torch-free), the transformers/static/vLLM engines
    training       the fine-tuning loop
    evaluation     grading, intervals and paired tests, pass@k, held-out loss
    ingest         generations made elsewhere, checked row by row before any write
    studies        the scaling studies' cells, fits and contrasts
    reporting      figures (PNG bytes) and small result tables
    steps          external-process entry points (`python -m rft.steps.train --spec F`)
"""
