"""rft: Rejection Sampling Fine-Tuning on math word problems, as library code."""
