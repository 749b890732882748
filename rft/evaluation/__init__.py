"""Accuracy and the statistics around it.

`scoring` (grading texts: maj1@1, maj1@K), `significance` (Wilson intervals, exact McNemar, the
paired test over seeds, Holm), `pass_at_k`, `token_loss` (a model's loss on held-out text) and
`eval_loop` (generate, then grade). Only `eval_loop` and `token_loss` import torch. May import `rft.sampling` and below.
"""
