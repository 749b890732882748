"""The rejection filter's rules, as pure functions on strings: what makes a path correct and distinct.

`answers` (the final answer after `####`), `arithmetic` (safe, exact evaluation of a calculator
annotation: never `eval`), `equations` (finding and checking `<<lhs=rhs>>`), `path_verdict`
(one path -> kept or rejected with a reason) and `equation_dedup` (one representative per
equation list). `spark_jobs` runs these at scale. Imports nothing else of `rft`.
"""
