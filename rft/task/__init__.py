"""Tasks: the word problems the pipeline trains and evaluates on, and the paper's prompt format.

`generator` and `templates` (the embedded task), `gsm8k` (GSM8K-format files and the bundled
copy), `source` (the questions a config asks for), `prompts`. May import `rft.filter`, `rft.config`.
"""
