"""Tasks: the word problems the pipeline trains and evaluates on."""
