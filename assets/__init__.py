"""Asset families of the RFT loop, one module each, wired in `rft_dagster.definitions`."""
