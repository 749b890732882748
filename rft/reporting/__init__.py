"""What people look at: figures as PNG bytes (`run_plots`, `study_plots`, `comparison_plots`) and
small result tables (`result_tables`, `study_tables`), shared by Dagit metadata, `rft report` and
the benches; and `study_registry`, the one list of scaling studies, each with its cells, fits,
figure and tables. Matplotlib's Agg canvas only. May import `rft.studies` and below.
"""
