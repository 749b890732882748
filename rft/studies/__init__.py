"""The scaling studies: each study's cells and ids (`cells`), fitted laws (`fits`), the categorical
contrasts (`contrasts`), the pre-training-loss comparison (`pretrain_loss`) and the figures each
study claims (`study_summary`). Pure pandas and math. May import `rft.evaluation` and below.
The studies themselves, each bound to its figure, are listed in `rft.reporting.study_registry`.
"""
