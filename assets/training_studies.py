"""Scaling studies that train, one partition per model: each cell one training run, one evaluation, one row.

A study's cells come from the config (rft/studies/cells.py); a cell whose id already has a row in
`rft.study_results` is reused, so re-materialising computes only missing cells, and adding a
model is a backfill of its partition. Nothing is sampled again: RFT vs k and RFT vs diversity
read `rft.verified_paths`. Each asset is made by one factory (rft_dagster/study_assets.py); what
differs is what a cell trains on (spark_jobs/study_inputs.py). The studies that train nothing
are in assets/evaluation_studies.py.
"""

from rft.studies.cells import RFT_VS_DIVERSITY, RFT_VS_K, SFT_VS_DATA
from rft_dagster.study_assets import training_study_asset
from spark_jobs.study_inputs import rft_vs_diversity_examples, rft_vs_k_examples, sft_vs_data_examples

rft_vs_k_study = training_study_asset(
    RFT_VS_K, deps=["verified_paths"], stage="rft", examples=rft_vs_k_examples,
    description="One row per k in rft.study_results: RFT on SFT data + own distinct paths among the first k samples.",
)

sft_vs_data_study = training_study_asset(
    SFT_VS_DATA, deps=["questions"], stage="sft", examples=sft_vs_data_examples,
    description="One row per data fraction in rft.study_results: SFT on nested, seeded subsets of the train split.",
)

rft_vs_diversity_study = training_study_asset(
    RFT_VS_DIVERSITY, deps=["verified_paths"], stage="rft", examples=rft_vs_diversity_examples,
    description="One row per (selection, seed) in rft.study_results: RFT on n own paths, distinct, any correct "
                "or duplicated.",
)
