"""Fine-tuning: one plain torch loop for SFT and RFT, full or LoRA (`trainer`).

Its settings are `rft.config.train_config.TrainConfig`. May import `rft.config` and below.
"""
